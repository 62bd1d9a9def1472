package health.carapace.records.internal;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.utilities.xhtml.NodeType;
import org.hl7.fhir.utilities.xhtml.XhtmlNode;

/**
 * FHIR's narrative rules (R4 txt-1, txt-2), enforced on every write, with one addition: a
 * narrative is rendered by other people's clients, so it may not make them fetch anything from
 * anywhere. Checked on the parsed XHTML, never on the markup as text:
 * <ul>
 *   <li>only the elements FHIR allows (HTML 4 basic formatting, lists, tables, {@code a},
 *       {@code img}, {@code map}/{@code area}); no {@code script}, {@code style}, {@code iframe},
 *       {@code object}, {@code form}, ...;</li>
 *   <li>only the attributes FHIR allows on them; no event handlers ({@code on*});</li>
 *   <li>{@code href} only to a fragment ({@code #id}) or a relative reference on the reader's own
 *       server: no scheme ({@code javascript:}, {@code https:}, ...) and no other host
 *       ({@code //evil.example});</li>
 *   <li>{@code img src} only to a fragment (a contained resource) or inline PNG, GIF or JPEG
 *       data: an image from another host is fetched as the page is shown, without a click;</li>
 *   <li>{@code style} without anything that fetches or escapes ({@code url(}, {@code @import},
 *       {@code expression(}, {@code image-set(}, backslash escapes, comments);</li>
 *   <li>some text that is not white space (txt-2).</li>
 * </ul>
 * A refusal is a 400 that names the rule, never the content.
 */
final class SafeNarrative {

    private static final Set<String> ELEMENTS = Set.of("div", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
            "span", "a", "b", "i", "em", "strong", "small", "big", "tt", "sub", "sup", "dfn", "q", "var", "abbr",
            "acronym", "cite", "code", "samp", "kbd", "blockquote", "address", "bdo", "pre", "ul", "ol", "li", "dl",
            "dt", "dd", "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td", "img",
            "map", "area");

    private static final Set<String> COMMON_ATTRIBUTES = Set.of("id", "class", "style", "title", "lang", "xml:lang",
            "dir", "xmlns");

    private static final Map<String, Set<String>> ELEMENT_ATTRIBUTES = Map.ofEntries(
            Map.entry("a", Set.of("href", "name", "rel", "hreflang", "type", "charset", "shape", "coords")),
            Map.entry("img", Set.of("src", "alt", "height", "width", "usemap", "border")),
            Map.entry("area", Set.of("href", "alt", "shape", "coords", "nohref")),
            Map.entry("map", Set.of("name")),
            Map.entry("table", Set.of("border", "cellpadding", "cellspacing", "summary", "width", "frame", "rules",
                    "align")),
            Map.entry("td", Set.of("colspan", "rowspan", "headers", "scope", "abbr", "axis", "align", "valign",
                    "char", "charoff", "nowrap", "width", "height")),
            Map.entry("th", Set.of("colspan", "rowspan", "headers", "scope", "abbr", "axis", "align", "valign",
                    "char", "charoff", "nowrap", "width", "height")),
            Map.entry("tr", Set.of("align", "valign", "char", "charoff")),
            Map.entry("thead", Set.of("align", "valign", "char", "charoff")),
            Map.entry("tbody", Set.of("align", "valign", "char", "charoff")),
            Map.entry("tfoot", Set.of("align", "valign", "char", "charoff")),
            Map.entry("col", Set.of("span", "width", "align", "valign", "char", "charoff")),
            Map.entry("colgroup", Set.of("span", "width", "align", "valign", "char", "charoff")),
            Map.entry("ol", Set.of("start", "type", "compact")),
            Map.entry("ul", Set.of("type", "compact")),
            Map.entry("li", Set.of("value", "type")),
            Map.entry("p", Set.of("align")),
            Map.entry("div", Set.of("align")),
            Map.entry("pre", Set.of("width")),
            Map.entry("br", Set.of("clear")));

    /** Inline images only as PNG, GIF or JPEG data (SVG can carry script). */
    private static final Pattern INLINE_IMAGE = Pattern.compile("data:image/(png|gif|jpeg);base64,[A-Za-z0-9+/=]*");
    /** What lets CSS fetch, run or hide something: refused anywhere in a style attribute. */
    private static final Pattern UNSAFE_STYLE = Pattern.compile("url|image|import|expression|@|\\\\|/\\*|behavior|binding"
            + "|javascript", Pattern.CASE_INSENSITIVE);

    private SafeNarrative() {
    }

    /** Refuses (400) a resource whose narrative, or a contained resource's, breaks the rules. */
    static void check(Resource resource) {
        if (resource instanceof DomainResource domain) {
            if (domain.hasText() && domain.getText().hasDiv()) {
                XhtmlNode div = domain.getText().getDiv();
                checkNode(div);
                if (div.allText() == null || div.allText().isBlank()) {
                    throw refused("has no text (txt-2)");
                }
            }
            domain.getContained().forEach(SafeNarrative::check);
        }
    }

    private static void checkNode(XhtmlNode node) {
        if (node.getNodeType() == NodeType.Element) {
            String name = String.valueOf(node.getName()).toLowerCase(Locale.ROOT);
            if (!ELEMENTS.contains(name)) {
                throw refused("has an element FHIR does not allow in a narrative (txt-1)");
            }
            for (var attribute : node.getAttributes().entrySet()) {
                checkAttribute(name, attribute.getKey().toLowerCase(Locale.ROOT), attribute.getValue());
            }
        } else if (node.getNodeType() == NodeType.DocType || node.getNodeType() == NodeType.Instruction) {
            throw refused("has a document type or processing instruction");
        }
        if (node.getChildNodes() != null) {
            node.getChildNodes().forEach(SafeNarrative::checkNode);
        }
    }

    private static void checkAttribute(String element, String attribute, String value) {
        if (!COMMON_ATTRIBUTES.contains(attribute)
                && !ELEMENT_ATTRIBUTES.getOrDefault(element, Set.of()).contains(attribute)) {
            throw refused("has an attribute FHIR does not allow in a narrative (txt-1)");
        }
        String v = value == null ? "" : value;
        switch (attribute) {
            case "href" -> {
                if (!isLocalReference(v)) {
                    throw refused("links outside this server (only #fragments and relative references are allowed)");
                }
            }
            case "src" -> {
                String compact = withoutWhiteSpace(v);
                if (!compact.startsWith("#") && !INLINE_IMAGE.matcher(compact).matches()) {
                    throw refused("has an image from outside the resource (only #fragments and inline data)");
                }
            }
            case "usemap" -> {
                if (!withoutWhiteSpace(v).startsWith("#")) {
                    throw refused("has an image map outside the resource");
                }
            }
            case "style" -> {
                if (UNSAFE_STYLE.matcher(v).find()) {
                    throw refused("has a style that could fetch or run something");
                }
            }
            default -> {
                // plain text: displayed (or not) but never fetched
            }
        }
    }

    /**
     * A fragment or a reference relative to the reader's server: browsers drop tabs and line
     * breaks from URLs and read a backslash as a slash, so those are taken out first; then no
     * scheme (a colon before any {@code /?#}) and no network path ({@code //host}).
     */
    private static boolean isLocalReference(String href) {
        String url = withoutWhiteSpace(href).replace('\\', '/');
        if (url.startsWith("//")) {
            return false;
        }
        for (int i = 0; i < url.length(); i++) {
            char c = url.charAt(i);
            if (c == '/' || c == '?' || c == '#') {
                return true;
            }
            if (c == ':') {
                return false;
            }
        }
        return true;
    }

    private static String withoutWhiteSpace(String value) {
        StringBuilder kept = new StringBuilder(value.length());
        value.codePoints().filter(cp -> cp > 0x20 && !Character.isWhitespace(cp) && !Character.isSpaceChar(cp)
                && Character.getType(cp) != Character.FORMAT).forEach(kept::appendCodePoint);
        return kept.toString();
    }

    private static SafeFhirException refused(String why) {
        return SafeFhirException.badRequest("The narrative (text.div) " + why);
    }
}
