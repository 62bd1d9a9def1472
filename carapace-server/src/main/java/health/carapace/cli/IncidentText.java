package health.carapace.cli;

import health.carapace.incident.Incident;
import health.carapace.incident.Incidents;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.UUID;

/** How the incident commands print an incident: references and codes only, as the admin API. */
final class IncidentText {

    private IncidentText() {
    }

    static final String HEADER = "id\tdetected\tseverity\tstate\tdetector\tprincipal\taddress\tevents\toverdue\tdrill";

    static String row(Incident i) {
        return String.join("\t", i.id().toString(), i.detectedAt().toString(), i.severity().code(), i.state().code(),
                i.detector(), dash(i.principal()), dash(i.address()), Integer.toString(i.events()),
                i.clocks().overdue().isEmpty() ? "-" : String.join(",", i.clocks().overdue()), i.drill() ? "drill" : "-");
    }

    static void print(Incident i, PrintWriter out) {
        out.println("incident:      " + i.id());
        out.println("detector:      " + i.detector() + " (" + i.severity().code() + ")");
        out.println("state:         " + i.state().code() + (i.drill() ? " (drill)" : ""));
        out.println("principal:     " + dash(i.principal()));
        out.println("address:       " + dash(i.address()));
        out.println("events:        " + i.events() + " from " + i.firstEventAt() + " to " + i.lastEventAt());
        out.println("detected:      " + i.detectedAt());
        out.println("isolate by:    " + i.clocks().isolateBy());
        out.println("alert by:      " + i.clocks().alertBy());
        out.println("plan by:       " + i.clocks().planBy());
        if (i.breach() != null) {
            out.println("breach:        " + i.breach().affected() + " affected, discovered " + i.breach().discoveredOn());
            out.println("individuals by " + i.clocks().individualsBy() + " (45 CFR 164.404)");
            out.println("HHS by         " + i.clocks().hhsBy() + " (45 CFR 164.408)");
            out.println("media by       " + dash(i.clocks().mediaBy()) + " (45 CFR 164.406)");
        }
        out.println("overdue:       " + (i.clocks().overdue().isEmpty() ? "none" : String.join(", ", i.clocks().overdue())));
        if (i.containedAt() != null) {
            out.println("contained:     " + i.containedAt() + " ("
                    + java.time.Duration.between(i.detectedAt(), i.containedAt()).toSeconds() + " s after detection)");
        }
        out.println("patients:      " + (i.patients().isEmpty() ? "none" : String.join(" ", i.patients())));
        out.println("audit events:  " + i.auditEvents().size());
        out.println("timeline:");
        for (Incident.TimelineEntry entry : i.timeline()) {
            out.println("  " + entry.at() + "  " + entry.entry() + (entry.detail() == null ? "" : " " + entry.detail())
                    + "  by " + entry.actor());
        }
    }

    /** The incident id from the command line, or null (then the command says so and exits 1). */
    static UUID id(String text) {
        try {
            UUID id = UUID.fromString(text);
            return id.toString().equals(text) ? id : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Prints a refusal (our message, never input) and returns the exit code. */
    static int refused(Incidents.Refused refused, PrintWriter err) {
        err.println(refused.getMessage());
        err.flush();
        return refused.reason() == Incidents.Refused.Reason.NOT_FOUND ? 1 : 2;
    }

    private static String dash(Object value) {
        return value == null ? "-" : value.toString();
    }

    static Instant parseSince(String text) {
        return text == null ? null : Instant.parse(text);
    }
}
