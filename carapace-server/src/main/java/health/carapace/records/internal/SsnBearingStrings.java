package health.carapace.records.internal;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.Coverage;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;

/**
 * Strings outside an Identifier that often carry an SSN (review F7): {@code Coverage.subscriberId}
 * (payers used the SSN as the member id for decades) and the string answers of a
 * QuestionnaireResponse (an intake form asks for it). One holding anything SSN-shaped
 * ({@link SsnRule#holdsSsn}) is masked as a whole for a caller without view:ssn
 * ({@link SsnMasking}) and restored, or the write refused, when it comes back
 * ({@link MaskedWriteBack}). Each is named by a key stable across a read and a write back: its
 * element, and for an answer the item and answer positions with the item's linkId.
 */
final class SsnBearingStrings {

    private SsnBearingStrings() {
    }

    /** The SSN-bearing strings of {@code resource} itself (not of contained resources), by key. */
    static Map<String, StringType> of(Resource resource) {
        Map<String, StringType> strings = new LinkedHashMap<>();
        if (resource instanceof Coverage coverage && coverage.hasSubscriberIdElement()) {
            strings.put("subscriberId", coverage.getSubscriberIdElement());
        } else if (resource instanceof QuestionnaireResponse response) {
            answers("item", response.getItem(), strings);
        }
        return strings;
    }

    private static void answers(String prefix, List<QuestionnaireResponse.QuestionnaireResponseItemComponent> items,
            Map<String, StringType> strings) {
        for (int i = 0; i < items.size(); i++) {
            var item = items.get(i);
            String key = prefix + "[" + i + ":" + item.getLinkId() + "]";
            for (int a = 0; a < item.getAnswer().size(); a++) {
                var answer = item.getAnswer().get(a);
                if (answer.getValue() instanceof StringType string) {
                    strings.put(key + ".answer[" + a + "]", string);
                }
                answers(key + ".answer[" + a + "].item", answer.getItem(), strings);
            }
            answers(key + ".item", item.getItem(), strings);
        }
    }

    /** Whether a string's value must be masked for a caller without view:ssn. */
    static boolean holdsSsn(StringType string) {
        return string.hasValue() && SsnRule.holdsSsn(string.getValue());
    }
}
