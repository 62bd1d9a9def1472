package health.carapace.records.internal;

import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.StrictErrorHandler;
import ca.uhn.fhir.parser.json.BaseJsonLikeValue;
import java.util.regex.Pattern;

/**
 * HAPI's strict parsing (unknown elements and invalid values refused), with refusals that say
 * where the problem is: the element's path in the schema, in the message and in
 * {@code OperationOutcome.issue.expression} ({@link ErrorSanitiser}) where the parser gives it.
 * Only schema names are used, never a value and never an unknown key (a key is input and may be
 * data): the parent is an element the parser already matched, and an element of the wrong JSON
 * type is one the schema defines. HAPI's JSON parser gives no location for an unknown element, so
 * there the refusal says only that the type does not define it.
 */
final class NamedParseErrors extends StrictErrorHandler {

    static final String UNKNOWN_ELEMENT = "Unknown element";

    private static final Pattern ELEMENT_NAME = Pattern.compile("[A-Za-z]{1,40}");
    /** A parent as HAPI names it: an element name or a dotted path of them. */
    private static final Pattern ELEMENT_PATH = Pattern.compile("[A-Za-z]{1,40}(\\.[A-Za-z]{1,40}){0,15}");

    /**
     * The last refusal on this thread: HAPI rethrows a parse failure as a new exception without its
     * cause, so {@link ErrorSanitiser} finds the refusal here (and only if HAPI's message carries it).
     */
    private static final ThreadLocal<Problem> LAST = new ThreadLocal<>();

    /** The refusal behind {@code message}, if this thread's parser wrote it; forgotten once asked. */
    static java.util.Optional<Problem> behind(String message) {
        Problem last = LAST.get();
        LAST.remove();
        return last != null && message != null && message.contains(last.getMessage())
                ? java.util.Optional.of(last) : java.util.Optional.empty();
    }

    private static Problem remembered(Problem problem) {
        LAST.set(problem);
        return problem;
    }

    /** A parse refusal with a message and an expression Carapace wrote. */
    static final class Problem extends DataFormatException {
        private final String expression;

        Problem(String message, String expression) {
            super(message);
            this.expression = expression;
        }

        String expression() {
            return expression;
        }
    }

    @Override
    public void unknownElement(IParseLocation location, String elementName) {
        // The unknown name itself is never echoed: a key is input, and may be data (a canary test
        // found one). The parent, where the parser gives it, is schema.
        String parent = parent(location);
        throw remembered(new Problem(UNKNOWN_ELEMENT + (parent == null ? "" : " in " + parent)
                + ": the type does not define it (GET /fhir/metadata lists the served types; the FHIR R4 "
                + "specification defines their elements)", parent));
    }

    @Override
    public void unknownAttribute(IParseLocation location, String attributeName) {
        throw remembered(new Problem("Unknown attribute" + in(location), parent(location)));
    }

    @Override
    public void invalidValue(IParseLocation location, String value, String error) {
        throw remembered(new Problem("Invalid value" + in(location) + " (not valid for the element's type)", parent(location)));
    }

    @Override
    public void incorrectJsonType(IParseLocation location, String elementName, BaseJsonLikeValue.ValueType expected,
            BaseJsonLikeValue.ScalarType expectedScalar, BaseJsonLikeValue.ValueType found,
            BaseJsonLikeValue.ScalarType foundScalar) {
        // elementName here is one the parser matched against the schema
        String parent = parent(location);
        boolean named = elementName != null && ELEMENT_NAME.matcher(elementName).matches();
        String path = named ? (parent == null ? elementName : parent + "." + elementName) : parent;
        throw remembered(new Problem("Wrong JSON type" + (path == null ? "" : " for " + path) + ": expected "
                + expected.name().toLowerCase(java.util.Locale.ROOT), path));
    }

    @Override
    public void unexpectedRepeatingElement(IParseLocation location, String elementName) {
        throw remembered(new Problem("An element that repeats where the type allows one" + in(location), parent(location)));
    }

    private static String in(IParseLocation location) {
        String parent = parent(location);
        return parent == null ? "" : " in " + parent;
    }

    /** The parent element's name, which the parser already matched against the schema. */
    private static String parent(IParseLocation location) {
        String parent = location == null ? null : location.getParentElementName();
        return parent != null && ELEMENT_PATH.matcher(parent).matches() ? parent : null;
    }
}
