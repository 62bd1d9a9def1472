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
 */
record Detection(String detector, Severity severity, String principal, String address, String patient,
        UUID eventId, long leafIndex, Instant at, String detail) {

    static Detection of(String detector, Severity severity, SealedEvent sealed, String detail) {
        var e = sealed.event();
        return new Detection(detector, severity, e.user(), e.context().ip(), e.patient(), e.id(), sealed.leafIndex(),
                e.timestamp(), detail);
    }

    static Detection byAddress(String detector, Severity severity, SealedEvent sealed, String detail) {
        var e = sealed.event();
        return new Detection(detector, severity, null, e.context().ip(), e.patient(), e.id(), sealed.leafIndex(),
                e.timestamp(), detail);
    }

    /** What de-duplicates it: the principal, or the address when the detector keys on it. */
    String subject() {
        return principal != null ? principal : "address:" + address;
    }
}
