package health.carapace.signin.internal;

import health.carapace.access.Caller;
import health.carapace.access.Callers;
import health.carapace.platform.web.RequestFilter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.springframework.security.authentication.DisabledException;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;

/**
 * Turns a verified bearer token into a {@link Caller} by looking the principal up in the
 * directory on every request. A token proves who signed in; whether they may still act (not
 * disabled, which roles they hold now, the token not revoked) is the directory's answer, so a
 * change takes effect on the next request, on every node, even though access tokens are
 * self-contained and cached. One query per request answers all of it: the principal, a person's
 * session, and whether the token's id ({@code jti}) was revoked ({@link LiveAccessTokens}, the
 * same answer the introspection endpoint gives). A cache
 * of these answers belongs here, in front of the two lookups, and must drop an entry when a
 * revocation, a session's end or a directory change is announced.
 */
final class CallerResolution extends RequestFilter {

    private final LiveAccessTokens live;
    private final DeniedRequests denied;

    CallerResolution(LiveAccessTokens live, DeniedRequests denied) {
        this.live = live;
        this.denied = denied;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (SecurityContextHolder.getContext().getAuthentication() instanceof JwtAuthenticationToken token) {
            boolean person = LiveAccessTokens.ofPerson(token.getToken());
            Optional<Caller> caller = live.caller(token.getToken());
            if (caller.isEmpty()) {
                SecurityContextHolder.clearContext();
                denied.commence(request, response, new DisabledException("principal is disabled or unknown"));
                return;
            }
            if (person) {
                // A person's permissions come from their roles (the directory), never from claims
                // in the token: drop every authority the token's scope would have granted.
                SecurityContext context = SecurityContextHolder.createEmptyContext();
                context.setAuthentication(new JwtAuthenticationToken(token.getToken(), List.of(), token.getName()));
                SecurityContextHolder.setContext(context);
            }
            Callers.attach(request, caller.get());
            // Every audit event of a request made with an app's token names the app (review F3).
            if (Boolean.TRUE.equals(token.getToken().getClaimAsBoolean(SmartTokens.SMART_APP))
                    && token.getToken().getAudience() != null && token.getToken().getAudience().size() == 1) {
                request.setAttribute(health.carapace.audit.AuditContext.APP_ATTRIBUTE, token.getToken().getAudience().get(0));
            }
        }
        chain.doFilter(request, response);
    }
}
