package health.carapace.platform.logging;

import health.carapace.platform.web.RequestFilter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.UUID;
import org.slf4j.MDC;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * Gives every request a random id, returned as {@code X-Request-Id} and attached to every log
 * line. A client-supplied id is ignored (hidden from everything downstream): it could carry
 * anything, and the server's own id is what operators correlate on.
 */
@Component
@Order(health.carapace.platform.web.FilterOrder.REQUEST_IDS)
public class RequestIds extends RequestFilter {

    public static final String MDC_KEY = "requestId";
    public static final String HEADER = "X-Request-Id";

    /** The current request's id, or null outside a request. */
    public static String current() {
        return MDC.get(MDC_KEY);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String id = UUID.randomUUID().toString();
        MDC.put(MDC_KEY, id);
        response.setHeader(HEADER, id);
        try {
            chain.doFilter(new HttpServletRequestWrapper(request) {
                @Override
                public String getHeader(String name) {
                    return HEADER.equalsIgnoreCase(name) ? id : super.getHeader(name);
                }

                @Override
                public java.util.Enumeration<String> getHeaders(String name) {
                    return HEADER.equalsIgnoreCase(name)
                            ? java.util.Collections.enumeration(java.util.List.of(id)) : super.getHeaders(name);
                }
            }, response);
        } finally {
            MDC.remove(MDC_KEY);
        }
    }
}
