package health.carapace.signin.internal;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditUnavailableException;
import health.carapace.platform.logging.RequestIds;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import java.util.regex.Pattern;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.http.server.ServletServerHttpResponse;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.http.converter.OAuth2ErrorHttpMessageConverter;
import org.springframework.security.oauth2.server.authorization.web.authentication.OAuth2AccessTokenResponseAuthenticationSuccessHandler;
import org.springframework.security.oauth2.server.authorization.web.authentication.OAuth2ErrorAuthenticationFailureHandler;
import org.springframework.security.web.authentication.AuthenticationFailureHandler;
import org.springframework.security.web.authentication.AuthenticationSuccessHandler;

/**
 * Audits the token endpoint: a token issued is a {@code login}, a refused client or grant a
 * {@code login_failed}. A token is handed out only after its login event is durable; a
 * refusal is answered even if the audit trail is down (it carries nothing).
 */
final class TokenRequests {

    private static final Pattern CLIENT_ID = Pattern.compile("(svc|app|drill)-[0-9a-f-]{36}|dev-console|carapace-console");

    /** The audit reason of a client-authentication attempt refused by the throttle. */
    static final String THROTTLED = "throttled";
    private static final int TOO_MANY_REQUESTS = 429;

    private final AuditTrail audit;
    private final AuthenticationSuccessHandler issue = new OAuth2AccessTokenResponseAuthenticationSuccessHandler();
    private final AuthenticationFailureHandler refuse = new OAuth2ErrorAuthenticationFailureHandler();
    private final OAuth2ErrorHttpMessageConverter errors = new OAuth2ErrorHttpMessageConverter();

    TokenRequests(AuditTrail audit) {
        this.audit = audit;
        ((OAuth2AccessTokenResponseAuthenticationSuccessHandler) issue).setAccessTokenResponseCustomizer(SmartTokens.response());
    }

    AuthenticationSuccessHandler issued() {
        return (request, response, authentication) -> {
            audit.record(List.of(event(request, clientOf(authentication), AuditAction.LOGIN, true)));
            issue.onAuthenticationSuccess(request, response, authentication);
        };
    }

    /** A revoked token: audited, then 200 as RFC 7009 asks. */
    AuthenticationSuccessHandler revoked() {
        return (request, response, authentication) -> {
            String client = claimedClient(request);
            audit.record(List.of(event(request, client, AuditAction.TOKEN_REVOKED, true)));
            response.setStatus(HttpServletResponse.SC_OK);
        };
    }

    /**
     * A refused revocation (the token belongs to another client, or the client failed to
     * authenticate): audited as a failed {@code token_revoked}, answered like a refused client.
     */
    AuthenticationFailureHandler revocationRefused() {
        return (request, response, e) -> {
            try {
                audit.record(List.of(event(request, claimedClient(request), AuditAction.TOKEN_REVOKED, false)));
            } catch (AuditUnavailableException unavailable) {
                org.slf4j.LoggerFactory.getLogger(TokenRequests.class).warn("A refused revocation could not be audited",
                        unavailable);
            }
            writeClientError(response, e);
        };
    }

    /** A refused grant: 400 with the OAuth2 error, as Spring's token endpoint answers. */
    AuthenticationFailureHandler refused() {
        return (request, response, e) -> {
            recordRefusal(request, null);
            refuse.onAuthenticationFailure(request, response, e);
        };
    }

    /**
     * A client that failed to authenticate: 401 for invalid_client (RFC 6749 §5.2), else 400. A
     * client held back by the throttle: 429 with {@code Retry-After} and {@code slow_down}, audited
     * as a failed login with the reason {@code throttled}.
     */
    AuthenticationFailureHandler clientRefused() {
        return (request, response, e) -> {
            if (e instanceof ThrottledClientSecrets.Throttled throttled) {
                recordRefusal(request, THROTTLED);
                response.setStatus(TOO_MANY_REQUESTS);
                response.setHeader("Retry-After", Long.toString(throttled.retryAfterSeconds()));
                errors.write(new OAuth2Error(ThrottledClientSecrets.SLOW_DOWN), null, new ServletServerHttpResponse(response));
                return;
            }
            recordRefusal(request, null);
            writeClientError(response, e);
        };
    }

    private void writeClientError(HttpServletResponse response, AuthenticationException e) throws IOException {
        OAuth2Error error = e instanceof OAuth2AuthenticationException oauth ? oauth.getError()
                : new OAuth2Error(OAuth2ErrorCodes.INVALID_CLIENT);
        response.setStatus(OAuth2ErrorCodes.INVALID_CLIENT.equals(error.getErrorCode())
                ? HttpServletResponse.SC_UNAUTHORIZED : HttpServletResponse.SC_BAD_REQUEST);
        // Only the error code: which part of the credentials was wrong is nobody's business.
        errors.write(new OAuth2Error(error.getErrorCode()), null, new ServletServerHttpResponse(response));
    }

    /** @param reason the audit reason code, or null */
    private void recordRefusal(HttpServletRequest request, String reason) {
        try {
            AuditEvent failed = event(request, claimedClient(request), AuditAction.LOGIN_FAILED, false);
            audit.record(List.of(reason == null ? failed : new AuditEvent(failed.id(), failed.timestamp(), failed.user(),
                    failed.action(), failed.resource(), failed.context(), false, null, null, failed.requestId(), false,
                    null, reason)));
        } catch (AuditUnavailableException unavailable) {
            org.slf4j.LoggerFactory.getLogger(TokenRequests.class).warn("A refused token request could not be audited",
                    unavailable);
        }
    }

    private static AuditEvent event(HttpServletRequest request, String client, AuditAction action, boolean success) {
        return AuditEvent.now(client, action, DeniedRequests.pathOnly(request), AuditContext.of(request), success, null,
                null, RequestIds.current());
    }

    private static String clientOf(Authentication authentication) {
        String name = authentication.getName();
        return name != null && CLIENT_ID.matcher(name).matches() ? name : "unknown-client";
    }

    /** The client id a refused request claimed, if it has the shape of one: never free text. */
    private static String claimedClient(HttpServletRequest request) {
        String claimed = request.getParameter("client_id");
        String authorization = request.getHeader("Authorization");
        if (claimed == null && authorization != null && authorization.startsWith("Basic ")) {
            try {
                String decoded = new String(java.util.Base64.getDecoder().decode(authorization.substring(6)),
                        java.nio.charset.StandardCharsets.UTF_8);
                claimed = java.net.URLDecoder.decode(decoded.split(":", 2)[0], java.nio.charset.StandardCharsets.UTF_8);
            } catch (IllegalArgumentException malformed) {
                claimed = null;
            }
        }
        return claimed != null && CLIENT_ID.matcher(claimed).matches() ? claimed : "unknown-client";
    }
}
