package health.carapace.incident.internal;

import health.carapace.incident.Incident;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One alert about one incident: its id, detector, severity, state and clocks, and where to look
 * at it. Never a patient reference, a name or an identifier: an alert leaves the server over
 * channels we do not control.
 *
 * @param kind {@code opened} or {@code escalated}
 */
record Alert(String kind, Incident incident, String adminUrl) {

    /** The idempotency key: the same for every retry of this alert. */
    String idempotencyKey() {
        return incident.id() + ":" + kind;
    }

    Map<String, Object> json() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("kind", kind);
        body.put("incident", incident.id().toString());
        body.put("detector", incident.detector());
        body.put("severity", incident.severity().code());
        body.put("state", incident.state().code());
        body.put("drill", incident.drill());
        body.put("detectedAt", incident.detectedAt().toString());
        body.put("isolateBy", incident.clocks().isolateBy().toString());
        body.put("alertBy", incident.clocks().alertBy().toString());
        body.put("planBy", incident.clocks().planBy().toString());
        body.put("overdue", incident.clocks().overdue());
        body.put("url", adminUrl + "/admin/incidents/" + incident.id());
        return body;
    }

    String subject() {
        return (incident.drill() ? "[DRILL] " : "") + "Carapace incident " + incident.severity().code().toUpperCase()
                + ": " + incident.detector() + (kind.equals("escalated") ? " (not acknowledged, escalated)" : "");
    }

    String text() {
        return (incident.drill() ? "This is a DRILL.\n\n" : "")
                + "Incident " + incident.id() + "\n"
                + "Detector: " + incident.detector() + "\n"
                + "Severity: " + incident.severity().code() + "\n"
                + "State:    " + incident.state().code() + "\n"
                + "Detected: " + incident.detectedAt() + "\n"
                + "Isolate the affected access by " + incident.clocks().isolateBy() + "\n"
                + "Compliance officer alerted by " + incident.clocks().alertBy() + "\n"
                + "Containment plan by " + incident.clocks().planBy() + "\n\n"
                + "Details (sign in required): " + adminUrl + "/admin/incidents/" + incident.id() + "\n"
                + "Runbook: docs/INCIDENTS.md. This message names no patient by design.\n";
    }
}
