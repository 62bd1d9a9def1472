package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.server.RestfulServer;
import health.carapace.platform.logging.RequestIds;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * HAPI's server with two defaults changed: no {@code X-Powered-By} banner naming the library
 * and its version, and the request id is the one Carapace gave the request (the one in the
 * logs), never one the client sent.
 */
final class CarapaceRestfulServer extends RestfulServer {

    CarapaceRestfulServer(FhirContext fhir) {
        super(fhir);
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
