package health.carapace.console.internal;

import jakarta.servlet.http.HttpServletRequest;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * Reading a console request's fields: each at most once, bounded, parsed strictly. A field that
 * does not parse refuses the whole request with a message of ours naming what the field takes,
 * never the value sent.
 */
final class Fields {

    private static final int MAX_CHARS = 2000;

    private final HttpServletRequest request;
    private final Set<String> known;
    private final String expected;

    /**
     * @param known every field this request may carry (others are refused)
     * @param expected what the fields take, in words, for the refusal
     */
    Fields(HttpServletRequest request, Set<String> known, String expected) {
        this.request = request;
        this.known = known;
        this.expected = expected;
        if (health.carapace.platform.web.DecodableParameters.undecodable(request)) {
            throw malformed();
        }
        for (String name : request.getParameterMap().keySet()) {
            if (!known.contains(name) && !SessionCsrfTokens.PARAMETER.equals(name)) {
                throw malformed();
            }
        }
    }

    /** The field's value, or null when absent or empty. */
    String text(String name) {
        String[] values = request.getParameterValues(name);
        if (values == null) {
            return null;
        }
        if (values.length != 1 || values[0].length() > MAX_CHARS) {
            throw malformed();
        }
        return values[0].isEmpty() ? null : values[0];
    }

    <T> T parsed(String name, Function<String, T> parse) {
        String value = text(name);
        if (value == null) {
            return null;
        }
        try {
            T parsed = parse.apply(value);
            if (parsed == null) {
                throw malformed();
            }
            return parsed;
        } catch (RuntimeException unparsable) {
            throw malformed();
        }
    }

    boolean checked(String name) {
        String value = text(name);
        if (value != null && !"on".equals(value) && !"true".equals(value)) {
            throw malformed();
        }
        return value != null;
    }

    ConsoleRefusal malformed() {
        return new ConsoleRefusal(400, "A field is malformed: " + expected + ".");
    }

    /** An id as the console writes it: a lower-case UUID. */
    static UUID id(String text) {
        try {
            UUID uuid = UUID.fromString(text);
            if (uuid.toString().equals(text)) {
                return uuid;
            }
        } catch (IllegalArgumentException notAnId) {
            // below
        }
        throw new ConsoleRefusal(404, "There is no such page in the console.");
    }
}
