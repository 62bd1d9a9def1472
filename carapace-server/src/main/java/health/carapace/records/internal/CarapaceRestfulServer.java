package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.RequestTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.method.BaseMethodBinding;
import health.carapace.platform.logging.RequestIds;
import health.carapace.platform.web.OperationOutcomes;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/**
 * HAPI's server with four defaults changed: no {@code X-Powered-By} banner naming the library
 * and its version; the request id is the one Carapace gave the request (the one in the logs),
 * never one the client sent; a request no method serves is decided before it is refused; and a
 * parameter name HAPI would rewrite is refused before HAPI reads it.
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

    /** A parameter name HAPI would rewrite is refused before HAPI reads it ({@link ParameterNames}). */
    @Override
    protected void handleRequest(RequestTypeEnum type, HttpServletRequest request, HttpServletResponse response)
            throws ServletException, IOException {
        if (ParameterNames.rewrittenByHapi(request.getParameterMap().keySet())) {
            OperationOutcomes.write(response, HttpServletResponse.SC_BAD_REQUEST, IssueType.INVALID,
                    ParameterNames.REFUSAL);
            return;
        }
        super.handleRequest(type, request, response);
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
