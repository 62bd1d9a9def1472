package health.carapace.access.internal;

import ca.uhn.fhir.context.FhirContext;
import health.carapace.access.Caller;
import health.carapace.access.Callers;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.platform.logging.RequestIds;
import health.carapace.platform.web.OperationOutcomes;
import jakarta.servlet.http.HttpServletRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /admin/roles}: read, create, replace and delete role documents, in exactly the format
 * of the policy files. Needs {@code manage:users} granted by a role (security rules). A change is
 * validated exactly like a file at startup, written atomically into the policy directory, and the
 * decision point switches to the new policy at once. Every change is audited as
 * {@code admin_change} before the file is written (no audit, no change), every refused change too
 * (role names only, never a document).
 */
@RestController
class RolesEndpoint {

    private static final Logger log = LoggerFactory.getLogger(RolesEndpoint.class);
    private static final FhirContext FHIR = FhirContext.forR4Cached();
    private static final MediaType FHIR_JSON = MediaType.parseMediaType("application/fhir+json");

    private final PolicyDirectory directory;
    private final RolePolicy policy;
    private final AuditTrail audit;

    RolesEndpoint(PolicyDirectory directory, RolePolicy policy, AuditTrail audit) {
        this.directory = directory;
        this.policy = policy;
        this.audit = audit;
    }

    @GetMapping("/admin/roles")
    ResponseEntity<String> list() {
        StringBuilder json = new StringBuilder("{\"roles\":[");
        boolean first = true;
        for (var role : policy.roles()) {
            json.append(first ? "" : ",").append("{\"role\":\"").append(role.name())
                    .append("\",\"source\":\"").append(role.source())
                    .append("\",\"unconstrained\":").append(role.unconstrained()).append('}');
            first = false;
        }
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(json.append("]}\n").toString());
    }

    @GetMapping("/admin/roles/{name}")
    ResponseEntity<String> get(@PathVariable("name") String name) {
        if (!RoleDocuments.ROLE_NAME.matcher(name).matches()) {
            return badName();
        }
        Role role = policy.snapshot().role(name);
        if (role == null) {
            return outcome(HttpStatus.NOT_FOUND, IssueType.NOTFOUND, "No role of that name");
        }
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(role.document());
    }

    @PutMapping("/admin/roles/{name}")
    ResponseEntity<String> put(@PathVariable("name") String name, HttpServletRequest request)
            throws java.io.IOException {
        if (!RoleDocuments.ROLE_NAME.matcher(name).matches()) {
            return badName();
        }
        MediaType type;
        try {
            type = request.getContentType() == null ? null : MediaType.parseMediaType(request.getContentType());
        } catch (IllegalArgumentException malformed) {
            type = null;
        }
        if (type == null || !MediaType.APPLICATION_JSON.isCompatibleWith(type)) {
            return outcome(HttpStatus.UNSUPPORTED_MEDIA_TYPE, IssueType.NOTSUPPORTED,
                    "A role document is sent as application/json");
        }
        // Read here rather than through @RequestBody: Spring's converter selection would answer a
        // malformed Content-Type itself, outside our OperationOutcome.
        byte[] body = request.getInputStream().readNBytes(RoleDocuments.MAX_DOCUMENT_BYTES + 1);
        if (body.length == 0 || body.length > RoleDocuments.MAX_DOCUMENT_BYTES) {
            return outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID, "A role document of 1 byte to 64 KiB is required");
        }
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(body)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID, "A role document is UTF-8 JSON");
        }
        PolicyDirectory.Change change;
        try {
            change = directory.put(name, json, () -> record(request, name, true));
        } catch (PolicyException invalid) {
            record(request, name, false);
            return outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID, String.join("; ", invalid.problems()));
        }
        policy.install(change.snapshot());
        log.info("role document {} through the admin API", change.created() ? "created" : "replaced");
        return ResponseEntity.status(change.created() ? HttpStatus.CREATED : HttpStatus.OK)
                .contentType(MediaType.APPLICATION_JSON).body(json);
    }

    @DeleteMapping("/admin/roles/{name}")
    ResponseEntity<String> delete(@PathVariable("name") String name, HttpServletRequest request) {
        if (!RoleDocuments.ROLE_NAME.matcher(name).matches()) {
            return badName();
        }
        Optional<PolicySnapshot> after;
        try {
            after = directory.delete(name, () -> record(request, name, true));
        } catch (PolicyException invalid) {
            record(request, name, false);
            return outcome(HttpStatus.CONFLICT, IssueType.CONFLICT, String.join("; ", invalid.problems()));
        }
        if (after.isEmpty()) {
            return outcome(HttpStatus.NOT_FOUND, IssueType.NOTFOUND, "No role of that name");
        }
        policy.install(after.get());
        log.info("role document deleted through the admin API");
        return ResponseEntity.noContent().build();
    }

    private void record(HttpServletRequest request, String role, boolean success) {
        String admin = Callers.of(request).map(Caller::principal).orElse("anonymous");
        audit.record(List.of(AuditEvent.now(admin, AuditAction.ADMIN_CHANGE, "/admin/roles/" + role,
                AuditContext.of(request), success, null, null, RequestIds.current())));
    }

    private static ResponseEntity<String> badName() {
        return outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID,
                "Role names are 1-63 characters: lower-case letters, digits, '-' and '_', starting with a letter");
    }

    private static ResponseEntity<String> outcome(HttpStatus status, IssueType code, String message) {
        return ResponseEntity.status(status).contentType(FHIR_JSON)
                .body(FHIR.newJsonParser().encodeResourceToString(OperationOutcomes.of(code, message)));
    }
}
