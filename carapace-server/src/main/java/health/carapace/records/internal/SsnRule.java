package health.carapace.records.internal;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.utilities.xhtml.NodeType;
import org.hl7.fhir.utilities.xhtml.XhtmlNode;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;

/**
 * The one rule for "is this a Social Security number", used by everything that protects SSNs:
 * masking on the way out ({@link SsnMasking}), refusing searches that could confirm one
 * ({@link AccessEnforcement}, {@link RecordSearch}) and keeping masked values from being written back
 * ({@link MaskedWriteBack}). Anything that decides about SSNs asks here, so a spelling the mask
 * recognises is a spelling the search refuses, and the other way round.
 *
 * <p>An SSN is an identifier in the us-ssn namespace, however the system is spelled (case,
 * trailing slash, query, fragment, {@code https}, the OID with or without {@code urn:oid:}), or
 * one typed {@code SS} under any code system or none. In free text (the narrative), and as a
 * searched value, anything shaped like one counts: nine digits of any script, optionally grouped
 * 3-2-4 by any dashes, spaces, dots or slashes, also across markup ({@link #shadow}). A number
 * cannot be told apart from an SSN by its looks, so it is treated as one.
 */
final class SsnRule {

    /** The canonical us-ssn system, as FHIR writes it. */
    static final String SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn";
    /** The same namespace as an OID (HL7 v2 and CDA feeds send this one). */
    static final String SSN_OID = "2.16.840.1.113883.4.1";

    /**
     * An SSN in free text, over its shadow ({@link #shadow}): three, two and four digits, each
     * gap up to eight separators of any kind (mixed; markup between the groups, such as {@code <br/>} or
     * table cells, reads as separators too), not inside a longer run of digits.
     */
    private static final Pattern SSN_SHADOW = Pattern.compile("(?<![0-9*])[0-9]{3}-{0,8}[0-9]{2}-{0,8}[0-9]{4}(?![0-9])");
    /** The same with the first five digits masked, as {@link #maskNarrative} writes them. */
    private static final Pattern MASK_SHADOW = Pattern.compile("(?<![0-9*])\\*{3}-{0,8}\\*{2}-{0,8}[0-9]{4}(?![0-9])");
    /** What {@link #masked} writes into an identifier value, as found in a value sent back. */
    private static final Pattern MASK_TEXT = Pattern.compile("\\*\\*\\*-\\*\\*-[0-9*]{4}");

    /**
     * The rule's version, part of the fingerprint sealed into every stored version's header
     * ({@link StoredJson#JUDGE}) with the rule's verdict on it. Raise it with any change to what
     * counts as an SSN: versions judged by an older rule are then parsed and masked on every read
     * again, never sent as stored.
     */
    static final byte VERSION = 1;

    private SsnRule() {
    }

    /** An SSN: in the us-ssn namespace (any spelling), or typed SS whatever its system. */
    static boolean isSsn(Identifier identifier) {
        return isSsnSystem(identifier.getSystem()) || (identifier.hasType()
                && identifier.getType().getCoding().stream().anyMatch(SsnRule::isSsType));
    }

    /**
     * Whether a system names the us-ssn namespace: compared without case, scheme, {@code www.},
     * trailing slashes or {@code urn:oid:}, so that no spelling slips past a check the canonical
     * one would meet.
     */
    static boolean isSsnSystem(String system) {
        String canonical = canonicalSystem(system);
        return canonical.equals("hl7.org/fhir/sid/us-ssn") || canonical.equals(SSN_OID);
    }

    /**
     * The type code {@code SS} under v2-0203 in any spelling, and equally under any other system
     * or none: a code system of one's own that reuses the code is far likelier than an unrelated
     * {@code SS}, and treating one too many identifiers as an SSN only masks it.
     */
    private static boolean isSsType(Coding coding) {
        return coding.hasCode() && coding.getCode().trim().equalsIgnoreCase("SS");
    }

    private static String canonicalSystem(String system) {
        if (system == null) {
            return "";
        }
        String s = system.trim().toLowerCase(Locale.ROOT);
        // a version (v2-0203|2.9), a query or a fragment does not change the namespace
        for (char end : new char[] {'|', '?', '#'}) {
            int at = s.indexOf(end);
            if (at >= 0) {
                s = s.substring(0, at);
            }
        }
        for (String prefix : List.of("urn:oid:", "https://", "http://", "www.")) {
            if (s.startsWith(prefix)) {
                s = s.substring(prefix.length());
            }
        }
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return s;
    }

    /** {@code ***-**-} and the last four digits; fewer than four digits are all masked. */
    static String masked(String ssn) {
        String digits = ssn.replaceAll("[^0-9]", "");
        return "***-**-" + (digits.length() >= 4 ? digits.substring(digits.length() - 4) : "****");
    }

    /** Whether a value holds a mask written by {@link #masked} (never a real value). */
    static boolean holdsMask(String value) {
        return value != null && MASK_TEXT.matcher(value).find();
    }

    /**
     * Masks, in place, every SSN in a narrative: in its text as a reader sees it (text nodes
     * joined, markup between digits ignored, so {@code 871-23-<b>4501</b>} is one), in each
     * attribute value and in each comment. The first five digits become {@code *} where they
     * stand; separators and the last four stay.
     */
    static void maskNarrative(XhtmlNode div) {
        for (Flow flow : Flow.of(div)) {
            for (List<Flow.Position> digits : flow.find(SSN_SHADOW)) {
                for (Flow.Position digit : digits.subList(0, 5)) {
                    flow.replace(digit, "*");
                }
            }
            flow.apply();
        }
    }

    /**
     * The SSNs in a stored narrative, in document order, as found by {@link #maskNarrative}
     * (wherever they stand: text, attribute, comment), each as its nine digit characters.
     */
    static List<List<String>> ssnsInNarrative(XhtmlNode div) {
        List<List<String>> ssns = new ArrayList<>();
        for (Flow flow : Flow.of(div)) {
            for (List<Flow.Position> digits : flow.find(SSN_SHADOW)) {
                ssns.add(digits.stream().map(flow::text).toList());
            }
        }
        return ssns;
    }

    /**
     * Puts the stored SSNs back behind the masks of a narrative sent by a caller who saw it
     * masked, in place; false (and the narrative must be discarded) if they cannot be put back
     * safely. Masks are restored only in text, never in an attribute value (where a URL could
     * carry the SSN to another host) or a comment: a mask anywhere but in text refuses the write.
     * The masks in the text must be, in order, those of {@code stored} (the last four digits
     * match); where the text around them moved does not matter, since text is only displayed.
     */
    static boolean restoreNarrative(XhtmlNode div, List<List<String>> stored) {
        List<Flow> flows = Flow.of(div);
        List<List<Flow.Position>> masks = new ArrayList<>();
        for (Flow flow : flows) {
            List<List<Flow.Position>> found = flow.find(MASK_SHADOW);
            if (!found.isEmpty() && !flow.isText()) {
                return false;
            }
            masks.addAll(found);
        }
        if (masks.size() != stored.size()) {
            return false;
        }
        for (int i = 0; i < masks.size(); i++) {
            String shownLastFour = masks.get(i).subList(5, 9).stream().map(p -> p.flow().text(p)).reduce("", String::concat);
            String storedLastFour = String.join("", stored.get(i).subList(5, 9));
            if (!shadow(shownLastFour).equals(shadow(storedLastFour))) {
                return false;
            }
            for (int d = 0; d < 5; d++) {
                Flow.Position star = masks.get(i).get(d);
                star.flow().replace(star, stored.get(i).get(d));
            }
        }
        flows.forEach(Flow::apply);
        return true;
    }

    /**
     * A run of narrative text read as one string, with each character traced back to the node
     * (or attribute) it came from so that matches found in the whole can be edited in the parts.
     * The text nodes of a narrative make one flow, with a line break between blocks (inline
     * elements such as {@code <b>} join their text to the text around them); each attribute
     * value and each comment is a flow of its own.
     */
    private static final class Flow {

        private static final Set<String> INLINE = Set.of("a", "abbr", "acronym", "b", "bdo", "big", "cite", "code",
                "dfn", "em", "font", "i", "kbd", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup",
                "tt", "u", "var");

        /** One place text lives: a text or comment node, or one attribute of an element. */
        private record Part(XhtmlNode node, String attribute) {
            String text() {
                String text = attribute == null ? node.getContent() : node.getAttribute(attribute);
                return text == null ? "" : text;
            }

            void set(String text) {
                if (attribute == null) {
                    node.setContent(text);
                } else {
                    node.setAttribute(attribute, text);
                }
            }
        }

        /** One code point of the flow: where it is (part, char offset, char count). */
        record Position(Flow flow, int part, int offset, int length) {
        }

        private final boolean text;
        private final List<Part> parts = new ArrayList<>();
        private final StringBuilder shadow = new StringBuilder();
        /** For each shadow character its position; null for a line break between blocks. */
        private final List<Position> positions = new ArrayList<>();
        /** Replacements per part: offset to (length replaced, new text). */
        private final Map<Integer, java.util.TreeMap<Integer, Map.Entry<Integer, String>>> edits = new java.util.HashMap<>();

        private Flow(boolean text) {
            this.text = text;
        }

        static List<Flow> of(XhtmlNode div) {
            List<Flow> flows = new ArrayList<>();
            Flow text = new Flow(true);
            flows.add(text);
            walk(div, text, flows);
            return flows;
        }

        private static void walk(XhtmlNode node, Flow text, List<Flow> flows) {
            switch (node.getNodeType()) {
                case Text -> text.add(new Part(node, null));
                case Comment -> flows.add(new Flow(false).add(new Part(node, null)));
                case Element, Document -> {
                    for (String attribute : new ArrayList<>(node.getAttributes().keySet())) {
                        flows.add(new Flow(false).add(new Part(node, attribute)));
                    }
                    boolean block = node.getNodeType() == NodeType.Element
                            && !INLINE.contains(String.valueOf(node.getName()).toLowerCase(Locale.ROOT));
                    if (block) {
                        text.lineBreak();
                    }
                    if (node.getChildNodes() != null) {
                        for (XhtmlNode child : node.getChildNodes()) {
                            walk(child, text, flows);
                        }
                    }
                    if (block) {
                        text.lineBreak();
                    }
                }
                default -> {
                    // a document type or processing instruction holds no displayed text
                }
            }
        }

        boolean isText() {
            return text;
        }

        private Flow add(Part part) {
            int index = parts.size();
            parts.add(part);
            String value = part.text();
            for (int offset = 0; offset < value.length(); ) {
                int cp = value.codePointAt(offset);
                int length = Character.charCount(cp);
                shadow.append(shadowOf(cp));
                positions.add(new Position(this, index, offset, length));
                offset += length;
            }
            return this;
        }

        private void lineBreak() {
            shadow.append('-');
            positions.add(null);
        }

        /** Each match of {@code pattern}, as the positions of its nine digits (or masked digits). */
        List<List<Position>> find(Pattern pattern) {
            List<List<Position>> found = new ArrayList<>();
            Matcher matcher = pattern.matcher(shadow);
            while (matcher.find()) {
                List<Position> digits = new ArrayList<>();
                for (int i = matcher.start(); i < matcher.end(); i++) {
                    if (shadow.charAt(i) != '-') {
                        digits.add(positions.get(i));
                    }
                }
                found.add(digits);
            }
            return found;
        }

        String text(Position position) {
            return parts.get(position.part()).text().substring(position.offset(), position.offset() + position.length());
        }

        void replace(Position position, String replacement) {
            edits.computeIfAbsent(position.part(), p -> new java.util.TreeMap<>())
                    .put(position.offset(), Map.entry(position.length(), replacement));
        }

        /** Writes the replacements into the nodes, each part's from its end so offsets stay valid. */
        void apply() {
            for (var entry : edits.entrySet()) {
                Part part = parts.get(entry.getKey());
                StringBuilder value = new StringBuilder(part.text());
                for (var edit : entry.getValue().descendingMap().entrySet()) {
                    value.replace(edit.getKey(), edit.getKey() + edit.getValue().getKey(), edit.getValue().getValue());
                }
                part.set(value.toString());
            }
            edits.clear();
        }
    }

    /** Whether a searched value, as a whole, is shaped like an SSN (whatever separators it uses). */
    static boolean isSsnShaped(String value) {
        if (value == null) {
            return false;
        }
        String shadow = shadow(value).replace("-", "");
        return shadow.length() == 9 && shadow.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    /** Whether free text holds anything SSN-shaped, in any of the spellings {@link #shadow} knows. */
    static boolean holdsSsn(String text) {
        return text != null && SSN_SHADOW.matcher(shadow(text)).find();
    }

    /**
     * Free text as the SSN patterns read it, one character per code point: a digit of any script
     * (or one that NFKC turns into a digit: fullwidth, superscript, circled) becomes its ASCII
     * digit; a separator (any dash, space or other white space, format character such as a
     * zero-width space or soft hyphen, dot, slash, underscore, comma, colon, plus) becomes {@code -};
     * {@code *} stays;
     * anything else becomes {@code x}.
     */
    static String shadow(String text) {
        StringBuilder shadow = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> shadow.append(shadowOf(cp)));
        return shadow.toString();
    }

    private static char shadowOf(int codePoint) {
        String folded = Normalizer.normalize(Character.toString(codePoint), Normalizer.Form.NFKC);
        int cp = folded.codePointCount(0, folded.length()) == 1 ? folded.codePointAt(0) : codePoint;
        if (Character.getType(cp) == Character.DECIMAL_DIGIT_NUMBER) {
            return (char) ('0' + Character.digit(cp, 10));
        }
        if (cp == '*') {
            return '*';
        }
        int type = Character.getType(cp);
        if (type == Character.DASH_PUNCTUATION || type == Character.SPACE_SEPARATOR || type == Character.FORMAT
                || type == Character.CONNECTOR_PUNCTUATION || Character.isWhitespace(cp) || cp == '.' || cp == '/'
                || cp == ',' || cp == ':' || cp == '+' || cp == '\u2212' /* minus sign */) {
            return '-';
        }
        return 'x';
    }


    /**
     * Whether search parameters could confirm an SSN: an {@code identifier} criterion (of any
     * resource type) with any modifier, in the us-ssn namespace, or with an SSN-shaped value
     * whatever the system or none (the type {@code SS} that makes a custom system's identifier an
     * SSN is not in the query, so the value decides). A value without a system that is not
     * SSN-shaped is served: the search's match ({@link RecordSearch}) never counts an identifier
     * {@link #isSsn} recognises for a caller without view:ssn, so it can confirm no SSN.
     */
    static boolean searchNamesSsn(Map<String, String[]> parameters) {
        for (var entry : parameters.entrySet()) {
            String[] nameAndModifier = entry.getKey().split(":", 2);
            if (!nameAndModifier[0].equals("identifier")) {
                continue;
            }
            if (nameAndModifier.length > 1 || entry.getValue() == null) {
                // :of-type can name the type SS itself, :text matches anything: fail closed
                return true;
            }
            for (String value : entry.getValue()) {
                for (String alternative : RecordSearch.splitOr(value == null ? "" : value)) {
                    int bar = alternative.indexOf('|');
                    if ((bar >= 0 && isSsnSystem(alternative.substring(0, bar)))
                            || isSsnShaped(alternative.substring(bar + 1))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * Whether a search's criteria might carry an SSN, so that {@link AccessEnforcement} must
     * decide who may run it and what it may match: any identifier criterion, and any SSN-shaped
     * value of any parameter. (No search's criteria are echoed in {@code Bundle.link} at all:
     * {@link OpaqueSearchLinks}.)
     */
    static boolean searchMayCarrySsn(Map<String, String[]> parameters) {
        for (var entry : parameters.entrySet()) {
            if (entry.getKey().split(":", 2)[0].equals("identifier")) {
                return true;
            }
            if (entry.getValue() == null) {
                continue;
            }
            for (String value : entry.getValue()) {
                if (value != null && (isSsnShaped(value) || holdsSsn(value)
                        || RecordSearch.splitOr(value).stream().anyMatch(SsnRule::isSsnShaped))) {
                    return true;
                }
            }
        }
        return false;
    }
}
