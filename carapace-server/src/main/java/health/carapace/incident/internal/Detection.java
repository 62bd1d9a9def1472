package health.carapace.incident.internal;

import health.carapace.audit.AuditFeed.SealedEvent;
import health.carapace.incident.Severity;
import java.time.Instant;
import java.util.UUID;

/**
 * What a detector found in one audit event: references only.
 *
 * @param principal who acted, or null when the detector keys on an address
 * @param address the client address, when the detector keys on it (else informational)
 * @param patient the patient reference concerned, or null
 * @param detail a short code saying which case of the rule matched (e.g. {@code break-glass}), or null
 * @param drill whether a drill's synthetic principal caused it (also when the detector keys on the address)
 */
record Detection(String detector, Severity severity, String principal, String address, String patient,
        UUID eventId, long leafIndex, Instant at, String detail, boolean drill) {

    Detection(String detector, Severity severity, String principal, String address, String patient, UUID eventId,
            long leafIndex, Instant at, String detail) {
        this(detector, severity, principal, address, patient, eventId, leafIndex, at, detail,
                principal != null && principal.startsWith(IncidentStore.DRILL_PREFIX));
    }

    static Detection of(String detector, Severity severity, SealedEvent sealed, String detail) {
        var e = sealed.event();
        return new Detection(detector, severity, e.user(), e.context().ip(), e.patient(), e.id(), sealed.leafIndex(),
                e.timestamp(), detail);
    }

    static Detection byAddress(String detector, Severity severity, SealedEvent sealed, String detail) {
        var e = sealed.event();
        return new Detection(detector, severity, null, e.context().ip(), e.patient(), e.id(), sealed.leafIndex(),
                e.timestamp(), detail, e.user() != null && e.user().startsWith(IncidentStore.DRILL_PREFIX));
    }

    /** What de-duplicates it: the principal, or the address when the detector keys on it. */
    String subject() {
        // a drill's address detections never absorb (or hide) a real attack from the same address
        return principal != null ? principal : (drill ? "drill-address:" : "address:") + address;
    }
}
