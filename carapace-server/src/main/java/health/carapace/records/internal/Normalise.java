package health.carapace.records.internal;

import java.text.Normalizer;
import java.util.Locale;
import java.util.regex.Pattern;

/** FHIR string search is case- and accent-insensitive; blind indexes see values the same way. */
final class Normalise {

    static final int PREFIX_LENGTH = 3;
    private static final Pattern MARKS = Pattern.compile("\\p{M}+");
    private static final Pattern SPACES = Pattern.compile("\\s+");

    private Normalise() {
    }

    static String text(String value) {
        String decomposed = Normalizer.normalize(value, Normalizer.Form.NFD);
        return SPACES.matcher(MARKS.matcher(decomposed).replaceAll("")).replaceAll(" ").strip().toLowerCase(Locale.ROOT);
    }

    /** The indexed prefix of a normalised string, or null when it is shorter than the prefix. */
    static String prefix(String normalised) {
        if (normalised.codePointCount(0, normalised.length()) < PREFIX_LENGTH) {
            return null;
        }
        return normalised.substring(0, normalised.offsetByCodePoints(0, PREFIX_LENGTH));
    }
}
