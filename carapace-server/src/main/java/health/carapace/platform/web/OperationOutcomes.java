package health.carapace.platform.web;

import ca.uhn.fhir.context.FhirContext;
import health.carapace.platform.logging.RequestIds;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/**
 * Builds the {@code OperationOutcome} every refusal carries: a stable issue code, a message that
 * names the problem without echoing the request, and the request id for support.
 */
public final class OperationOutcomes {

    private static final FhirContext FHIR = FhirContext.forR4Cached();

    private OperationOutcomes() {
    }

    public static OperationOutcome of(IssueType code, String message) {
        OperationOutcome outcome = new OperationOutcome();
        String requestId = RequestIds.current();
        outcome.addIssue()
                .setSeverity(IssueSeverity.ERROR)
                .setCode(code)
                .setDiagnostics(requestId == null ? message : message + " (request id " + requestId + ")");
        return outcome;
    }

    /**
     * Writes an outcome as FHIR JSON, with the security headers every response carries, for
     * refusals made before the FHIR server sees a request.
     */
    public static void write(HttpServletResponse response, int status, IssueType code, String message)
            throws IOException {
        SecurityHeaders.apply(response);
        response.setStatus(status);
        response.setContentType("application/fhir+json");
        response.setCharacterEncoding(StandardCharsets.UTF_8.name());
        response.getWriter().write(FHIR.newJsonParser().encodeResourceToString(of(code, message)));
        response.getWriter().flush();
    }

    /**
     * Replaces whatever a response held so far with an outcome (for a failure found after the
     * answer began): headers reset to ours, the request id kept. Nothing can be said once the
     * response is committed.
     */
    public static void replace(HttpServletResponse response, int status, IssueType code, String message)
            throws IOException {
        if (response.isCommitted()) {
            return;
        }
        response.reset();
        if (RequestIds.current() != null) {
            response.setHeader(RequestIds.HEADER, RequestIds.current());
        }
        write(response, status, code, message);
    }
}
