package health.carapace.telehealth.internal;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditUnavailableException;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * The visit's audit events, each an access to the patient's compartment: joining and leaving
 * ({@code viewed}: the participant saw and heard the visit, or stopped), ending ({@code modified}),
 * and refusals ({@code denied} with a reason code). Paths name the Appointment only:
 * {@code /telehealth/visits/<appointment id>/join}. A join waits until its event is durable; if
 * it cannot be, the participant is not admitted (fail closed).
 */
final class VisitAudit {

    private static final Logger log = LoggerFactory.getLogger(VisitAudit.class);

    private final AuditTrail trail;
    private final Clock clock;

    VisitAudit(AuditTrail trail, Clock clock) {
        this.trail = trail;
        this.clock = clock;
    }

    static String path(UUID appointmentId, String what) {
        return "/telehealth/visits/" + appointmentId + "/" + what;
    }

    /** The current HTTP request's context, or none outside one. */
    static AuditContext context() {
        return RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes attributes
                ? AuditContext.of(attributes.getRequest()) : AuditContext.none();
    }

    /** Records that {@code user} joined; throws {@link AuditUnavailableException} if it could not be made durable. */
    void joined(String user, UUID appointmentId, String patient, AuditContext context, String requestId) {
        trail.record(List.of(event(user, AuditAction.VIEWED, path(appointmentId, "join"), patient, context, requestId,
                true, null)));
    }

    void left(String user, UUID appointmentId, String patient, AuditContext context, String requestId) {
        recordQuietly(event(user, AuditAction.VIEWED, path(appointmentId, "leave"), patient, context, requestId, true, null));
    }

    void ended(String user, UUID appointmentId, String patient, AuditContext context, String requestId) {
        recordQuietly(event(user, AuditAction.MODIFIED, path(appointmentId, "end"), patient, context, requestId, true, null));
    }

    /** A refused join or signaling request; {@code appointmentId} and {@code patient} may be null when unknown. */
    void denied(String user, UUID appointmentId, String patient, String reason, AuditContext context, String requestId) {
        String path = appointmentId == null ? "/telehealth/signal" : path(appointmentId, "join");
        recordQuietly(event(user, AuditAction.DENIED, path, patient, context, requestId, false, reason));
    }

    private AuditEvent event(String user, AuditAction action, String path, String patient, AuditContext context,
            String requestId, boolean success, String reason) {
        return new AuditEvent(UUID.randomUUID(), clock.instant(), user, action, path, context, success, patient, null,
                requestId, false, null, reason);
    }

    private void recordQuietly(AuditEvent event) {
        try {
            trail.record(List.of(event));
        } catch (AuditUnavailableException e) {
            // a leave or a refusal lets nothing out, so it goes ahead; the outage is logged (no message text)
            log.warn("A telehealth audit event could not be recorded ({})", event.action().code());
        }
    }
}
