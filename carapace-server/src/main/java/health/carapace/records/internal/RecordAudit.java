package health.carapace.records.internal;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.platform.logging.RequestIds;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/** Turns record operations into audit events, with who, from where and which patient. */
final class RecordAudit {

    private final AuditTrail trail;

    RecordAudit(AuditTrail trail) {
        this.trail = trail;
    }

    AuditTrail trail() {
        return trail;
    }

    /** Records a change in the caller's transaction: the change and its event commit together. */
    void changed(AuditAction action, String type, String id, Optional<String> patient) {
        trail.recordInTransaction(List.of(change(action, type, id, patient)));
    }

    /** The event of a change, for a caller that records several in its transaction at once. */
    AuditEvent change(AuditAction action, String type, String id, Optional<String> patient) {
        return event(action, "/fhir/" + type + "/" + id, patient.orElse(null), null);
    }

    /** An event of the current request; flagged break-glass when only emergency access let it reach the patient. */
    AuditEvent event(AuditAction action, String resource, String patient, String query) {
        UUID id = UUID.randomUUID();
        return new AuditEvent(id, Instant.now(), user(), action, resource, context(), true, patient, purposeOfUse(),
                RequestIds.current(), RecordGuard.viaBreakGlass(patient), query == null ? null : trail.encryptQuery(id, query));
    }

    /** A record sent to the caller, flagged break-glass as its access decision said. */
    AuditEvent viewed(String resource, String patient, boolean breakGlass) {
        UUID id = UUID.randomUUID();
        return new AuditEvent(id, Instant.now(), user(), AuditAction.VIEWED, resource, context(), true, patient,
                purposeOfUse(), RequestIds.current(), breakGlass, null);
    }

    /** A refusal by the access policy, with its reason code. */
    AuditEvent denied(String user, String resource, String patient, String reason) {
        return new AuditEvent(UUID.randomUUID(), Instant.now(), user, AuditAction.DENIED, resource, context(), false,
                patient, purposeOfUse(), RequestIds.current(), false, null, reason);
    }

    /** The patient whose compartment a resource belongs to, from its own content. */
    static Optional<String> patientOf(Resource resource) {
        if (resource == null) {
            return Optional.empty();
        }
        if (resource.fhirType().equals("Patient")) {
            return Optional.of("Patient/" + resource.getIdElement().getIdPart());
        }
        return ResourceTypes.patientReference(resource)
                .map(Reference::getReferenceElement)
                .filter(target -> "Patient".equals(target.getResourceType()) && target.hasIdPart())
                .map(target -> "Patient/" + target.getIdPart());
    }

    static String user() {
        Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
        return authentication == null ? "anonymous" : authentication.getName();
    }

    static String purposeOfUse() {
        return RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes attributes
                ? AuditContext.purposeOfUse(attributes.getRequest().getHeader(AuditContext.PURPOSE_HEADER)) : null;
    }

    static AuditContext context() {
        if (!(RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes attributes)) {
            return AuditContext.none();
        }
        return AuditContext.of(attributes.getRequest());
    }
}
