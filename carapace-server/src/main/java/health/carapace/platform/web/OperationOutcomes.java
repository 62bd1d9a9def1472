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

    /** Writes an outcome as FHIR JSON, for refusals made before the FHIR server sees a request. */
    public static void write(HttpServletResponse response, int status, IssueType code, String message)
            throws IOException {
        response.setStatus(status);
        response.setContentType("application/fhir+json");
        response.setCharacterEncoding(StandardCharsets.UTF_8.name());
        response.getWriter().write(FHIR.newJsonParser().encodeResourceToString(of(code, message)));
        response.getWriter().flush();
    }
}
