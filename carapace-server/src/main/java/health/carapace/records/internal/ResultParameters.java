package health.carapace.records.internal;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Refuses (400) a malformed {@code _count} or page offset, which HAPI would otherwise silently
 * ignore ({@code _count=abc}, or a number too large for an int, meant the default page size).
 * A caller who asked for something the server cannot read is told so. A well-formed count above
 * the maximum page size is still capped, as FHIR allows. Runs after the access decision, so a
 * caller who may not search learns nothing from it ({@link AccessEnforcement#DECISION_ORDER}).
 */
@Interceptor
final class ResultParameters {

    /** A non-negative int: at most nine digits, so it always fits. */
    private static final Pattern COUNT = Pattern.compile("[0-9]{1,9}");
    private static final List<String> NUMERIC = List.of("_count", "_getpagesoffset");

    @Hook(value = Pointcut.SERVER_INCOMING_REQUEST_POST_PROCESSED, order = InterceptorOrder.RESULT_PARAMETERS)
    public boolean check(RequestDetails request) {
        for (String name : NUMERIC) {
            String[] values = request.getParameters().get(name);
            if (values == null) {
                continue;
            }
            for (String value : values) {
                if (value == null || !COUNT.matcher(value).matches()) {
                    throw SafeFhirException.badRequest("Parameter " + name + " must be a non-negative whole number");
                }
            }
        }
        return true;
    }
}
