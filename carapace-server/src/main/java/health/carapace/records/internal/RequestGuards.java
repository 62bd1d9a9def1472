package health.carapace.records.internal;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Locale;
import java.util.Set;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/**
 * Refuses request bodies that are not FHIR JSON or XML (or, for {@code POST Type/_search}, a
 * form) before HAPI tries to parse them.
 */
@Interceptor
final class RequestGuards {

    private static final Set<String> FHIR_TYPES = Set.of("application/fhir+json", "application/json",
            "application/json+fhir", "application/fhir+xml", "application/xml", "application/xml+fhir", "text/xml");

    @Hook(Pointcut.SERVER_INCOMING_REQUEST_PRE_PROCESSED)
    public boolean checkContentType(HttpServletRequest request, HttpServletResponse response) {
        String method = request.getMethod();
        if (method.equals("POST") || method.equals("PUT") || method.equals("PATCH")) {
            String contentType = request.getContentType();
            String bare = contentType == null ? "" : contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
            // FHIR search by POST (Type/_search) sends its parameters as a form
            boolean formSearch = method.equals("POST") && request.getRequestURI().endsWith("/_search")
                    && bare.equals("application/x-www-form-urlencoded");
            if (!FHIR_TYPES.contains(bare) && !formSearch) {
                throw new SafeFhirException(415, IssueType.NOTSUPPORTED,
                        "Unsupported content type: send application/fhir+json or application/fhir+xml");
            }
        }
        return true;
    }
}
