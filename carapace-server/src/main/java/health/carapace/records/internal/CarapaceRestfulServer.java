package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.method.BaseMethodBinding;
import health.carapace.platform.logging.RequestIds;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * HAPI's server with three defaults changed: no {@code X-Powered-By} banner naming the library
 * and its version; the request id is the one Carapace gave the request (the one in the logs),
 * never one the client sent; and a request no method serves is decided before it is refused.
 */
final class CarapaceRestfulServer extends RestfulServer {

    private final UnsupportedInteractions unsupported;

    CarapaceRestfulServer(FhirContext fhir, UnsupportedInteractions unsupported) {
        super(fhir);
        this.unsupported = unsupported;
    }

    /** A request no method serves is decided and answered by {@link UnsupportedInteractions}, not HAPI's 400. */
    @Override
    public BaseMethodBinding determineResourceMethod(RequestDetails request, String path) {
        // A method the path does not take is a 405 before HAPI picks a handler that would misread
        // it (POST Type/id reached the create handler and failed as a malformed create).
        String method = request.getRequestType() == null ? "" : request.getRequestType().name();
        if (UnsupportedInteractions.CHECKED_METHODS.contains(method)
                && UnsupportedInteractions.notAllowed(method, request.getRequestPath())) {
            throw unsupported.refuse(request);
        }
        try {
            return super.determineResourceMethod(request, path);
        } catch (InvalidRequestException e) {
            if (UnsupportedInteractions.isNoMethodMatches(e)) {
                throw unsupported.refuse(request);
            }
            throw e;
        }
    }

    @Override
    public void addHeadersToResponse(HttpServletResponse response) {
        // no product banner
    }

    @Override
    protected String getOrCreateRequestId(HttpServletRequest request) {
        String id = RequestIds.current();
        return id != null ? id : super.getOrCreateRequestId(request);
    }
}
