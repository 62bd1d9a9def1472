package health.carapace.signin.internal;

import health.carapace.access.Caller;
import health.carapace.access.Callers;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.authentication.DisabledException;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Turns a verified bearer token into a {@link Caller} by looking the principal up in the
 * directory on every request. A token proves who signed in; whether they may still act (not
 * disabled, which roles they hold now, the token not revoked) is the directory's answer, so a
 * change takes effect on the next request, on every node, even though access tokens are
 * self-contained and cached. One query per request answers all of it: the principal, a person's
 * session, and whether the token's id ({@code jti}) was revoked ({@link RevokedTokens}). A cache
 * of these answers belongs here, in front of the two lookups, and must drop an entry when a
 * revocation, a session's end or a directory change is announced.
 */
final class CallerResolution extends OncePerRequestFilter {

    private final JdbcClient jdbc;
    private final DeniedRequests denied;
    private final Clock clock;

    CallerResolution(DataSource dataSource, DeniedRequests denied, Clock clock) {
        this.jdbc = JdbcClient.create(dataSource);
        this.denied = denied;
        this.clock = clock;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (SecurityContextHolder.getContext().getAuthentication() instanceof JwtAuthenticationToken token) {
            boolean person = "user".equals(token.getToken().getClaimAsString("kind"));
            // Every token the server issues has an id; one without cannot be revoked, so it is refused.
            String tokenId = token.getToken().getId();
            Optional<Caller> caller = tokenId == null || tokenId.isBlank() ? Optional.empty()
                    : person ? user(token, tokenId) : serviceClient(token.getName(), tokenId);
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
        }
        chain.doFilter(request, response);
    }

    /**
     * A person: the token's sign-in session must be open (not revoked, not idle past the timeout,
     * not past its maximum lifetime), belong to the token's subject, and its user not be disabled;
     * the token itself must not be revoked.
     */
    private Optional<Caller> user(JwtAuthenticationToken token, String tokenId) {
        UUID sessionId;
        try {
            sessionId = UUID.fromString(String.valueOf(token.getToken().getClaimAsString("sid")));
        } catch (IllegalArgumentException malformed) {
            return Optional.empty();
        }
        Timestamp now = Timestamp.from(clock.instant());
        return jdbc.sql("""
                select u.user_name, u.roles, u.practitioner_id from iam.session s join iam.app_user u on u.id = s.user_id
                where s.id = ? and s.revoked_at is null and s.idle_expires_at > ? and s.absolute_expires_at > ?
                  and not u.disabled and lower(u.user_name) = lower(?) and %s""".formatted(RevokedTokens.NOT_REVOKED))
                .params(sessionId, now, now, token.getName(), tokenId)
                .query((rs, n) -> new Caller(rs.getString(1), Caller.Kind.USER,
                        Set.of((String[]) rs.getArray(2).getArray()), rs.getString(3)))
                .optional();
    }

    /** A service client: not disabled, and the token not revoked. */
    private Optional<Caller> serviceClient(String clientId, String tokenId) {
        return jdbc.sql("select roles from iam.service_client where client_id = ? and not disabled and "
                        + RevokedTokens.NOT_REVOKED)
                .params(clientId, tokenId)
                .query((rs, n) -> new Caller(clientId, Caller.Kind.SERVICE_CLIENT,
                        Set.of((String[]) rs.getArray(1).getArray()), null))
                .optional();
    }
}
