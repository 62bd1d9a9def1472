package health.carapace.incident.internal;

import health.carapace.incident.Clocks;
import health.carapace.incident.Incident;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One alert about one incident: its id, detector, severity, state and clocks, and where to look
 * at it. Never a patient reference, a name or an identifier: an alert leaves the server over
 * channels we do not control.
 *
 * @param kind {@code opened}, {@code escalated}, or {@code overdue:<clock>} (a clock ran out unmet)
 * @param idempotencyKey the same for every retry of this alert to this contact
 */
record Alert(String kind, Incident incident, String adminUrl, String idempotencyKey) {

    static final String OVERDUE = "overdue:";

    Alert(String kind, Incident incident, String adminUrl) {
        this(kind, incident, adminUrl, incident.id() + ":" + kind);
    }

    /** The clock an overdue alert is about, or null. */
    String overdueClock() {
        return kind.startsWith(OVERDUE) ? kind.substring(OVERDUE.length()) : null;
    }

    Map<String, Object> json() {
        Clocks clocks = incident.clocks();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("kind", kind.startsWith(OVERDUE) ? "overdue" : kind);
        if (overdueClock() != null) {
            body.put("clock", overdueClock());
        }
        body.put("incident", incident.id().toString());
        body.put("detector", incident.detector());
        body.put("severity", incident.severity().code());
        body.put("state", incident.state().code());
        body.put("drill", incident.drill());
        body.put("detectedAt", incident.detectedAt().toString());
        body.put("isolateBy", clocks.isolateBy().toString());
        body.put("alertBy", clocks.alertBy().toString());
        body.put("planBy", clocks.planBy().toString());
        if (clocks.individualsBy() != null) {
            body.put("individualsBy", clocks.individualsBy().toString());
            body.put("hhsBy", clocks.hhsBy().toString());
        }
        if (clocks.mediaBy() != null) {
            body.put("mediaBy", clocks.mediaBy().toString());
        }
        body.put("overdue", clocks.overdue());
        body.put("url", adminUrl + "/admin/incidents/" + incident.id());
        return body;
    }

    String subject() {
        String why = switch (kind) {
            case "opened" -> "";
            case "escalated" -> " (not acknowledged, escalated)";
            default -> " (clock overdue: " + overdueClock() + ")";
        };
        return (incident.drill() ? "[DRILL] " : "") + "Carapace incident " + incident.severity().code().toUpperCase()
                + ": " + incident.detector() + why;
    }

    String text() {
        Clocks clocks = incident.clocks();
        StringBuilder text = new StringBuilder(incident.drill() ? "This is a DRILL.\n\n" : "");
        if (overdueClock() != null) {
            text.append("OVERDUE: the ").append(overdueClock()).append(" clock ran out unmet.\n\n");
        }
        text.append("Incident ").append(incident.id()).append('\n')
                .append("Detector: ").append(incident.detector()).append('\n')
                .append("Severity: ").append(incident.severity().code()).append('\n')
                .append("State:    ").append(incident.state().code()).append('\n')
                .append("Detected: ").append(incident.detectedAt()).append('\n')
                .append("Isolate the affected access by ").append(clocks.isolateBy()).append('\n')
                .append("Compliance officer alerted by ").append(clocks.alertBy()).append('\n')
                .append("Containment plan by ").append(clocks.planBy()).append('\n');
        if (clocks.individualsBy() != null) {
            text.append("Individuals notified by ").append(clocks.individualsBy()).append(" (45 CFR 164.404)\n")
                    .append("HHS notified by ").append(clocks.hhsBy()).append(" (45 CFR 164.408)\n");
        }
        if (clocks.mediaBy() != null) {
            text.append("Media notified by ").append(clocks.mediaBy()).append(" (45 CFR 164.406)\n");
        }
        if (!clocks.overdue().isEmpty()) {
            text.append("Overdue: ").append(String.join(", ", clocks.overdue())).append('\n');
        }
        return text.append('\n')
                .append("Details (sign in required): ").append(adminUrl).append("/admin/incidents/")
                .append(incident.id()).append('\n')
                .append("Runbook: docs/INCIDENTS.md. This message names no patient by design.\n").toString();
    }
}
