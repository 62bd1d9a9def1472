package health.carapace.access.internal;

import health.carapace.access.Caller;
import health.carapace.access.Callers;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.authentication.DisabledException;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Turns a verified bearer token into a {@link Caller} by looking the principal up in the
 * directory on every request. A token proves who signed in; whether they may still act (not
 * disabled, which roles they hold now) is the directory's answer, so a change takes effect on the
 * next request even though access tokens are self-contained and cached.
 */
final class CallerResolution extends OncePerRequestFilter {

    private final JdbcClient jdbc;
    private final DeniedRequests denied;

    CallerResolution(DataSource dataSource, DeniedRequests denied) {
        this.jdbc = JdbcClient.create(dataSource);
        this.denied = denied;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (SecurityContextHolder.getContext().getAuthentication() instanceof JwtAuthenticationToken token) {
            Optional<Caller> caller = serviceClient(token.getName());
            if (caller.isEmpty()) {
                SecurityContextHolder.clearContext();
                denied.commence(request, response, new DisabledException("principal is disabled or unknown"));
                return;
            }
            Callers.attach(request, caller.get());
        }
        chain.doFilter(request, response);
    }

    private Optional<Caller> serviceClient(String clientId) {
        return jdbc.sql("select roles from iam.service_client where client_id = ? and not disabled")
                .param(clientId)
                .query((rs, n) -> new Caller(clientId, Caller.Kind.SERVICE_CLIENT,
                        Set.of((String[]) rs.getArray(1).getArray()), null))
                .optional();
    }
}
