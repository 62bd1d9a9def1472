package health.carapace.platform.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Set;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * Refuses, before any route or access rule sees it, a request whose method no Carapace route
 * serves (TRACE, PROPFIND, invented ones): 405 with an OperationOutcome and {@code Allow}, rather
 * than a 401 that suggests a token would help. TRACE is refused by Tomcat too; its refusal is
 * rendered by {@link ContainerErrorReport} with the same outcome.
 */
@Component
@Order(FilterOrder.KNOWN_METHODS)
public class KnownMethods extends RequestFilter {

    static final Set<String> SERVED = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    static final String ALLOW = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (!SERVED.contains(request.getMethod())) {
            response.setHeader("Allow", ALLOW);
            OperationOutcomes.write(response, HttpServletResponse.SC_METHOD_NOT_ALLOWED, IssueType.NOTSUPPORTED,
                    "This HTTP method is not supported here");
            return;
        }
        chain.doFilter(request, response);
    }
}
