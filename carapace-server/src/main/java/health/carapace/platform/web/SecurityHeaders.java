package health.carapace.platform.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * The security headers of every response, set before anything else can answer: refusals by a
 * filter, by Spring Security (401, 403), by HAPI and by the container itself ({@link
 * ContainerErrorReport}) carry the same ones as a 200. Everything this server sends may hold PHI,
 * so nothing is stored by caches; API responses are data, never a document to render or frame.
 *
 * <p>They are defaults, not additions: a response that sets one of these headers itself (the
 * sign-in pages have their own Content-Security-Policy, allowing their one inline style) replaces
 * the default instead of adding a second header, since browsers enforce every CSP header they get.
 */
@Component
@Order(FilterOrder.SECURITY_HEADERS)
public class SecurityHeaders extends RequestFilter {

    /** Header name → default value; names in lower case for the replacement check. */
    static final Map<String, String> DEFAULTS = Map.of(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains",
            "Cache-Control", "no-store",
            "X-Content-Type-Options", "nosniff",
            "X-Frame-Options", "DENY",
            "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'",
            "Referrer-Policy", "no-referrer");

    private static final java.util.Set<String> NAMES = DEFAULTS.keySet().stream()
            .map(name -> name.toLowerCase(Locale.ROOT)).collect(java.util.stream.Collectors.toUnmodifiableSet());

    /** Sets every default header on {@code response}, replacing whatever value it had. */
    public static void apply(HttpServletResponse response) {
        DEFAULTS.forEach(response::setHeader);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        apply(response);
        chain.doFilter(request, new HttpServletResponseWrapper(response) {
            @Override
            public void addHeader(String name, String value) {
                if (name != null && NAMES.contains(name.toLowerCase(Locale.ROOT))) {
                    super.setHeader(name, value);
                } else {
                    super.addHeader(name, value);
                }
            }

            @Override
            public void reset() {
                super.reset();
                apply(this);
            }
        });
    }

    @Override
    protected boolean shouldNotFilterErrorDispatch() {
        return false;
    }
}
