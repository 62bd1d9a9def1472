package health.carapace.access.internal;

import health.carapace.access.AccessPolicy;
import health.carapace.access.Caller;
import health.carapace.access.CareRelationships;
import health.carapace.access.Callers;
import health.carapace.access.ClientAddress;
import health.carapace.access.Permissions;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditUnavailableException;
import health.carapace.platform.logging.RequestIds;
import health.carapace.platform.web.OperationOutcomes;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code PUT /admin/assignments/{patientId}/{user}} assigns a user (or service client) to a patient;
 * {@code DELETE} on the same path ends it. Needs {@code manage:users} (from the caller's roles,
 * with their constraints, decided on this request); every change and every refusal is audited.
 */
@RestController
class AssignmentsEndpoint {

    private static final Logger log = LoggerFactory.getLogger(AssignmentsEndpoint.class);
    private static final Pattern PRINCIPAL = Pattern.compile("svc-[0-9a-f-]{36}|" + Caller.USER_NAME.pattern());

    private final CareRelationships relationships;
    private final AccessPolicy policy;
    private final ClientAddress addresses;
    private final AuditTrail audit;
    private final java.time.Clock clock;

    AssignmentsEndpoint(CareRelationships relationships, AccessPolicy policy, ClientAddress addresses, AuditTrail audit,
            java.time.Clock clock) {
        this.clock = clock;
        this.relationships = relationships;
        this.policy = policy;
        this.addresses = addresses;
        this.audit = audit;
    }

    @PutMapping("/admin/assignments/{patient}/{user}")
    void assign(@PathVariable String patient, @PathVariable String user, HttpServletRequest request,
            HttpServletResponse response) throws IOException {
        change(patient, user, true, request, response);
    }

    @DeleteMapping("/admin/assignments/{patient}/{user}")
    void unassign(@PathVariable String patient, @PathVariable String user, HttpServletRequest request,
            HttpServletResponse response) throws IOException {
        change(patient, user, false, request, response);
    }

    private void change(String patient, String user, boolean assign, HttpServletRequest request,
            HttpServletResponse response) throws IOException {
        Caller caller = Callers.of(request).orElse(null);
        String path = "/admin/assignments";
        if (caller == null || !policy.grants(caller, Permissions.MANAGE_USERS, addresses.resolve(request), clock.instant())) {
            try {
                audit.record(List.of(new AuditEvent(UUID.randomUUID(), Instant.now(),
                        caller == null ? "anonymous" : caller.principal(), AuditAction.DENIED, path,
                        AuditContext.of(request), false, null, null, RequestIds.current(), false, null, "no-permission")));
            } catch (AuditUnavailableException e) {
                log.warn("A refused assignment could not be audited", e);
            }
            OperationOutcomes.write(response, 403, IssueType.FORBIDDEN, "Access denied: no-permission (manage:users)");
            return;
        }
        if (!PRINCIPAL.matcher(user).matches() || parse(patient) == null) {
            OperationOutcomes.write(response, 400, IssueType.INVALID,
                    "The path must name a patient id and a user name or service client id");
            return;
        }
        String reference = "Patient/" + parse(patient);
        boolean changed = assign
                ? relationships.assign(user, reference, caller.principal(), AuditContext.of(request))
                : relationships.unassign(user, reference, caller.principal(), AuditContext.of(request));
        response.setStatus(assign ? (changed ? 201 : 200) : (changed ? 204 : 404));
    }

    private static UUID parse(String id) {
        try {
            UUID uuid = UUID.fromString(id);
            return uuid.toString().equals(id.toLowerCase(java.util.Locale.ROOT)) ? uuid : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
