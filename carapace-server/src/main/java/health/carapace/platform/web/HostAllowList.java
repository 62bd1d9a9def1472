package health.carapace.platform.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Collections;
import java.util.List;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * Serves only requests whose {@code Host} names this server ({@link PublicBaseUrl}): anything
 * else is answered 421 Misdirected Request with an OperationOutcome, before any other filter,
 * the sign-in pages or the FHIR server see it. Links are built from configuration anyway; this
 * also keeps a foreign name out of what the container and Spring Security derive from the
 * request (the sign-in redirect, the saved request), and refuses DNS-rebinding callers, whose
 * browsers send the attacker's name. A request with no {@code Host} or with two is refused too.
 */
@Component
@Order(FilterOrder.HOST_ALLOW_LIST)
public class HostAllowList extends RequestFilter {

    private static final int MISDIRECTED_REQUEST = 421;

    private final PublicBaseUrl publicBaseUrl;

    public HostAllowList(PublicBaseUrl publicBaseUrl) {
        this.publicBaseUrl = publicBaseUrl;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        List<String> hosts = request.getHeaders("Host") == null ? List.of()
                : Collections.list(request.getHeaders("Host"));
        if (hosts.size() != 1 || !publicBaseUrl.allowsHost(hosts.get(0))) {
            OperationOutcomes.write(response, MISDIRECTED_REQUEST, IssueType.INVALID,
                    "This server does not answer for the host name in the request");
            return;
        }
        chain.doFilter(request, response);
    }

    @Override
    protected boolean shouldNotFilterErrorDispatch() {
        return false;
    }
}
