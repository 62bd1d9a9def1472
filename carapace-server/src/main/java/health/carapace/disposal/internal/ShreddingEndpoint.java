package health.carapace.disposal.internal;

import health.carapace.audit.AuditContext;
import health.carapace.disposal.Shredding;
import health.carapace.platform.logging.RequestIds;
import health.carapace.platform.web.OperationOutcomes;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The shredding admin API, for holders of {@code manage:keys} (security rules):
 * {@code POST /admin/keys/shredding {"patient": ID, "reason": REF}}, {@code GET /admin/keys/shredding},
 * {@code GET /admin/keys/shredding/{id}}, {@code POST /admin/keys/shredding/{id}/approve} and
 * {@code .../refuse}. Two different authenticated principals are two different administrators.
 * Refusals are {@code OperationOutcome}s that echo nothing from the request.
 */
@RestController
class ShreddingEndpoint {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int MAX_BODY_CHARS = 4096;

    private final Shredding shredding;

    ShreddingEndpoint(Shredding shredding) {
        this.shredding = shredding;
    }

    @PostMapping("/admin/keys/shredding")
    ResponseEntity<String> request(@RequestBody(required = false) String body, HttpServletRequest http) {
        Shredding.Origin origin = origin(http);
        return answer(origin, "/admin/keys/shredding", () -> {
            JsonNode json = parse(body);
            Shredding.Request created = shredding.request(origin, text(json, "patient"), text(json, "reason"));
            return ResponseEntity.created(URI.create("/admin/keys/shredding/" + created.id()))
                    .contentType(MediaType.APPLICATION_JSON).body(JSON.writeValueAsString(view(created)));
        });
    }

    @GetMapping("/admin/keys/shredding")
    ResponseEntity<String> list(HttpServletRequest http) {
        return answer(origin(http), "/admin/keys/shredding", () -> json(Map.of("requests",
                shredding.list().stream().map(ShreddingEndpoint::view).toList())));
    }

    @GetMapping("/admin/keys/shredding/{id}")
    ResponseEntity<String> one(@PathVariable("id") String id, HttpServletRequest http) {
        return answer(origin(http), "/admin/keys/shredding/*", () -> json(view(shredding.find(requestId(id))
                .orElseThrow(ShreddingEndpoint::notFound))));
    }

    @PostMapping("/admin/keys/shredding/{id}/approve")
    ResponseEntity<String> approve(@PathVariable("id") String id, HttpServletRequest http) {
        Shredding.Origin origin = origin(http);
        return answer(origin, auditPath(id, "approve"), () -> json(view(shredding.approve(origin, requestId(id)))));
    }

    @PostMapping("/admin/keys/shredding/{id}/refuse")
    ResponseEntity<String> refuse(@PathVariable("id") String id, HttpServletRequest http) {
        Shredding.Origin origin = origin(http);
        return answer(origin, auditPath(id, "refuse"), () -> json(view(shredding.refuse(origin, requestId(id)))));
    }

    private ResponseEntity<String> answer(Shredding.Origin origin, String auditPath, Supplier<ResponseEntity<String>> action) {
        try {
            return action.get();
        } catch (Shredding.Refused refused) {
            if (refused.status() == 403 || refused.status() == 409) {
                shredding.auditRefusal(origin, auditPath, refused);
            }
            IssueType code = switch (refused.status()) {
                case 403 -> IssueType.FORBIDDEN;
                case 404 -> IssueType.NOTFOUND;
                case 409 -> IssueType.CONFLICT;
                default -> IssueType.INVALID;
            };
            return ResponseEntity.status(refused.status()).contentType(MediaType.valueOf("application/fhir+json"))
                    .body(ca.uhn.fhir.context.FhirContext.forR4Cached().newJsonParser()
                            .encodeResourceToString(OperationOutcomes.of(code, refused.getMessage())));
        }
    }

    private static Shredding.Origin origin(HttpServletRequest http) {
        var authentication = SecurityContextHolder.getContext().getAuthentication();
        return new Shredding.Origin(authentication == null ? "anonymous" : authentication.getName(),
                AuditContext.of(http), RequestIds.current());
    }

    private static JsonNode parse(String body) {
        if (body == null || body.isBlank() || body.length() > MAX_BODY_CHARS) {
            throw new Shredding.Refused(400, "The body must be a JSON object with patient and reason");
        }
        try {
            JsonNode json = JSON.readTree(body);
            if (json == null || !json.isObject()) {
                throw new Shredding.Refused(400, "The body must be a JSON object with patient and reason");
            }
            return json;
        } catch (JacksonException e) {
            throw new Shredding.Refused(400, "The body must be a JSON object with patient and reason");
        }
    }

    private static String text(JsonNode json, String field) {
        JsonNode value = json.get(field);
        return value != null && value.isString() ? value.asString() : null;
    }

    private static UUID requestId(String id) {
        try {
            return UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            throw notFound();
        }
    }

    private static String auditPath(String id, String action) {
        // The id segment is client text until parsed; only a well-formed id reaches the audit trail.
        String safe = id.matches("[0-9a-fA-F-]{36}") ? id : "*";
        return "/admin/keys/shredding/" + safe + "/" + action;
    }

    private static Shredding.Refused notFound() {
        return new Shredding.Refused(404, "No such shredding request");
    }

    private static ResponseEntity<String> json(Object value) {
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(JSON.writeValueAsString(value));
    }

    private static Map<String, Object> view(Shredding.Request r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id().toString());
        m.put("patient", r.patient());
        m.put("reason", r.reason());
        m.put("state", r.state());
        m.put("requestedBy", r.requestedBy());
        m.put("requestedAt", r.requestedAt().toString());
        m.put("expiresAt", r.expiresAt().toString());
        m.put("decidedBy", r.decidedBy());
        m.put("decidedAt", Optional.ofNullable(r.decidedAt()).map(Object::toString).orElse(null));
        m.put("executedAt", Optional.ofNullable(r.executedAt()).map(Object::toString).orElse(null));
        return m;
    }
}
