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
 * form), or that declare a charset other than UTF-8, before HAPI tries to parse them. HAPI
 * decoded a body in whatever charset the client named (an unknown one silently as UTF-8); FHIR
 * requires UTF-8, and one encoding means one meaning for every byte that is stored.
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
            // PATCH takes a JSON Patch document or a FHIRPath Patch (RecordPatch); its body is scanned like any other
            boolean jsonPatch = method.equals("PATCH") && bare.equals("application/json-patch+json");
            if (!FHIR_TYPES.contains(bare) && !formSearch && !jsonPatch) {
                throw new SafeFhirException(415, IssueType.NOTSUPPORTED, method.equals("PATCH")
                        ? "Unsupported content type: PATCH takes application/json-patch+json (JSON Patch) or "
                                + "application/fhir+json or application/fhir+xml (FHIRPath Patch)"
                        : "Unsupported content type: send application/fhir+json or application/fhir+xml");
            }
            if (!utf8OrUnstated(contentType)) {
                throw new SafeFhirException(415, IssueType.NOTSUPPORTED,
                        "Unsupported charset: request bodies must be UTF-8 (charset=utf-8, or no charset)");
            }
        }
        return true;
    }

    /** Whether every charset parameter of a Content-Type names UTF-8 (none at all means UTF-8). */
    static boolean utf8OrUnstated(String contentType) {
        String[] parts = contentType.split(";");
        for (int i = 1; i < parts.length; i++) {
            String[] parameter = parts[i].split("=", 2);
            if (!parameter[0].strip().equalsIgnoreCase("charset")) {
                continue;
            }
            String value = parameter.length < 2 ? "" : parameter[1].strip();
            if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                value = value.substring(1, value.length() - 1);
            }
            if (!value.equalsIgnoreCase("utf-8")) {
                return false;
            }
        }
        return true;
    }
}
