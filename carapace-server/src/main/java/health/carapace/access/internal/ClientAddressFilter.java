package health.carapace.access.internal;

import health.carapace.access.ClientAddress;
import health.carapace.audit.AuditContext;
import health.carapace.platform.web.RequestFilter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Resolves the real client address once, before security and before any audit event, so that
 * every event of the request (refusals included) records the address the IP-range constraints
 * see, not a proxy's and not a client-chosen X-Forwarded-For.
 */
final class ClientAddressFilter extends RequestFilter {

    private final ClientAddress addresses;

    ClientAddressFilter(ClientAddress addresses) {
        this.addresses = addresses;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        request.setAttribute(AuditContext.CLIENT_ADDRESS_ATTRIBUTE, addresses.resolve(request).getHostAddress());
        chain.doFilter(request, response);
    }
}
