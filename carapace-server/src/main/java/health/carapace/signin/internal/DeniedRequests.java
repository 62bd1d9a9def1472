package health.carapace.signin.internal;

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
import java.util.List;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.access.AccessDeniedHandler;

/**
 * Answers refused requests (401, 403) with an {@code OperationOutcome} that says nothing about
 * why a token failed, and records each refusal in the audit trail. A refusal carries no PHI, so
 * it is sent even if the audit trail is down (that failure is logged).
 */
final class DeniedRequests implements AuthenticationEntryPoint, AccessDeniedHandler {

    private static final Logger log = LoggerFactory.getLogger(DeniedRequests.class);

    private final AuditTrail audit;

    DeniedRequests(AuditTrail audit) {
        this.audit = audit;
    }

    @Override
    public void commence(HttpServletRequest request, HttpServletResponse response, AuthenticationException e)
            throws IOException {
        record(request, "anonymous");
        response.setHeader("WWW-Authenticate", "Bearer");
        OperationOutcomes.write(response, HttpServletResponse.SC_UNAUTHORIZED, IssueType.LOGIN,
                "A valid bearer token is required");
    }

    @Override
    public void handle(HttpServletRequest request, HttpServletResponse response, AccessDeniedException e)
            throws IOException {
        var authentication = SecurityContextHolder.getContext().getAuthentication();
        record(request, authentication == null ? "anonymous" : authentication.getName());
        OperationOutcomes.write(response, HttpServletResponse.SC_FORBIDDEN, IssueType.FORBIDDEN, "Access denied");
    }

    private void record(HttpServletRequest request, String user) {
        try {
            audit.record(List.of(AuditEvent.now(user, AuditAction.DENIED, pathOnly(request), AuditContext.of(request),
                    false, null, AuditContext.purposeOfUse(request.getHeader(AuditContext.PURPOSE_HEADER)),
                    RequestIds.current())));
        } catch (AuditUnavailableException e) {
            log.warn("A refused request could not be audited", e);
        }
    }

    private static final java.util.Set<String> ROUTE_WORDS = java.util.Set.of("fhir", "metadata", "oauth2", "token",
            "revoke", "introspect", "jwks", "authorize", "admin", "audit", "disclosures", "health", ".well-known",
            "openid-configuration", "oauth-authorization-server", "keys", "shredding", "approve", "refuse", "metrics",
            "access-review", "break-glass");
    private static final java.util.Set<String> RESOURCE_TYPES =
            ca.uhn.fhir.context.FhirContext.forR4Cached().getResourceTypes();
    private static final java.util.regex.Pattern UUID_OR_NUMBER =
            java.util.regex.Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\\d{1,19}");
    private static final java.util.regex.Pattern OPERATION = java.util.regex.Pattern.compile("[_$][a-z][a-z-]{0,30}");

    /**
     * The request path as an audit reference. A refused request's path is the client's text (a
     * name typed where an id belongs), so only route words, FHIR resource types, ids and
     * operation names are kept; every other segment becomes {@code *}. Never the query string.
     */
    static String pathOnly(HttpServletRequest request) {
        String path = request.getRequestURI();
        if (path == null || path.isEmpty()) {
            return "/";
        }
        StringBuilder safe = new StringBuilder();
        String[] segments = path.split("/", -1);
        for (int i = 1; i < segments.length && i <= 8; i++) {
            String segment = segments[i];
            boolean kept = ROUTE_WORDS.contains(segment) || RESOURCE_TYPES.contains(segment)
                    || UUID_OR_NUMBER.matcher(segment).matches() || OPERATION.matcher(segment).matches();
            safe.append('/').append(kept ? segment : "*");
        }
        return safe.isEmpty() ? "/" : safe.toString();
    }
}
