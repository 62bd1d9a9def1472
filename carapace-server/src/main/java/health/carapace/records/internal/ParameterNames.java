package health.carapace.records.internal;

import ca.uhn.fhir.util.UrlUtil;
import java.util.Collection;

/**
 * Parameter names HAPI would rewrite. {@code RequestDetails#setParameters} HTML-escapes
 * {@code ' " < >} and line breaks in a name and drops other control characters
 * ({@link UrlUtil#sanitizeUrlPart}), then collects the names into a map that refuses duplicates:
 * a name that becomes another one sent with it ({@code a'} and {@code a&apos;}, {@code a%01} and
 * {@code a}) failed with an {@code IllegalStateException} that quoted the name — a 500, and the
 * name in the error log (found by fuzzing, docs/RELIABILITY.md finding 4). No FHIR parameter name
 * has these characters, so a request with one is refused before HAPI reads its parameters.
 */
final class ParameterNames {

    static final String REFUSAL = "A parameter name has a character no FHIR parameter name has"
            + " (a quote, an angle bracket or a control character)";

    private ParameterNames() {
    }

    /** Whether HAPI would rewrite any of these names. */
    static boolean rewrittenByHapi(Collection<String> names) {
        for (String name : names) {
            if (UrlUtil.isNeedsSanitization(name)) {
                return true;
            }
        }
        return false;
    }
}
