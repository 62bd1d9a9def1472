package health.carapace.incident;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * One incident as operators see it: references only (principal, address, patient references, audit
 * event ids), never a name, an identifier or a record.
 *
 * @param detector the stable code of the detector that opened it (e.g. {@code vip-access})
 * @param principal who acted (user name or service client id), or null when only an address is known
 * @param address the client address the events came from, when the detector keys on it
 * @param drill whether drill-tagged principals caused it (kept out of breach counts)
 * @param patients the patient references involved (at most {@link #MAX_REFERENCES})
 * @param auditEvents ids of the audit events that triggered it (at most {@link #MAX_REFERENCES})
 */
public record Incident(UUID id, String detector, Severity severity, String principal, String address,
        IncidentState state, boolean drill, Instant firstEventAt, Instant lastEventAt, Instant detectedAt, int events,
        Instant acknowledgedAt, String acknowledgedBy, Instant containedAt, Instant closedAt, String resolution,
        Clocks clocks, List<String> patients, List<UUID> auditEvents, List<TimelineEntry> timeline,
        Breach breach, RiskAssessment risk) {

    /** How many patient references and event ids an incident keeps; the audit trail has the rest. */
    public static final int MAX_REFERENCES = 1000;

    /** One entry of an incident's timeline: a code and a short code-or-count detail, never free text. */
    public record TimelineEntry(Instant at, String actor, String entry, String detail) {}
}
