package health.carapace.records.internal;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.RestfulServerUtils;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/**
 * One scan over the raw bytes of every FHIR request body, before HAPI parses it, for what HAPI's
 * parsers let through or cannot bound. Each refusal is a 400 that names the problem and echoes
 * nothing:
 * <ul>
 * <li>bytes that are not valid UTF-8 (HAPI decoded them leniently, storing U+FFFD instead);
 * <li>a JSON property with an empty name (HAPI's parser failed on it with a 500);
 * <li>an entry of an {@code extension} or {@code modifierExtension} array that is not an object
 *     (HAPI's parser took every entry for one: a 500);
 * <li>a JSON object with the same key twice (HAPI kept the last, so two readers of one body
 *     could disagree about what was stored);
 * <li>an XML {@code DOCTYPE} of any kind (FHIR forbids DTDs; none is ever read or fetched) or an
 *     XML declaration naming an encoding other than UTF-8;
 * <li>a string (JSON string or property name after its escapes are decoded; XML text or attribute
 *     value after character references are decoded) holding a character that XML 1.0 cannot carry:
 *     a C0 control other than tab, CR and LF (NUL, U+0000), a lone surrogate (U+D800 alone),
 *     {@code U+FFFE}, {@code U+FFFF}. FHIR strings forbid them; HAPI stored them, so the record was
 *     later served as ill-formed XML or silently as {@code ?};
 * <li>nesting deeper than {@code carapace.fhir.max-json-depth}: objects and arrays in JSON (as
 *     Jackson counts), elements in XML. HAPI cannot be told this bound: it parses JSON with a
 *     private Jackson mapper (nesting limit 1000, whatever the global default says) and XML with
 *     none, and recurses once per level, so a deep body was stored or failed with a 500.
 * </ul>
 * A body this scan cannot read otherwise is left to HAPI's parser, which refuses it with its own
 * (sanitised) 400, so malformed syntax has one code path. A charset other than UTF-8 in the
 * Content-Type is refused earlier, with 415 ({@link RequestGuards}).
 */
@Interceptor
final class StrictBody {

    private final int maxDepth;
    private final JsonFactory json;
    private final XMLInputFactory xml;

    StrictBody(int maxDepth) {
        if (maxDepth < 1) {
            throw new IllegalArgumentException("carapace.fhir.max-json-depth must be at least 1");
        }
        this.maxDepth = maxDepth;
        // Strings as long as HAPI allows (base64 attachments); nesting is counted below, not here.
        this.json = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxStringLength(Integer.MAX_VALUE)
                        .maxNestingDepth(Math.max(maxDepth + 1, StreamReadConstraints.DEFAULT_MAX_DEPTH))
                        .build())
                .build();
        this.xml = XMLInputFactory.newFactory();
        // The scan never expands anything: no DTD, no entities, nothing fetched. A DOCTYPE is
        // still reported as an event, which is refused below.
        xml.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        xml.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        xml.setProperty(XMLInputFactory.IS_REPLACING_ENTITY_REFERENCES, false);
    }

    @Hook(value = Pointcut.SERVER_INCOMING_REQUEST_POST_PROCESSED, order = InterceptorOrder.STRICT_BODY)
    public boolean check(RequestDetails request) {
        String method = request.getRequestType() == null ? "" : request.getRequestType().name();
        if (!method.equals("POST") && !method.equals("PUT") && !method.equals("PATCH")) {
            return true;
        }
        EncodingEnum encoding = RestfulServerUtils.determineRequestEncodingNoDefault(request);
        String contentType = request.getHeader("Content-Type");
        if (encoding == null && contentType != null
                && contentType.strip().toLowerCase(java.util.Locale.ROOT).startsWith("application/json-patch+json")) {
            // a JSON Patch (RecordPatch) is JSON like any body: the same scan, before any parser sees it
            encoding = EncodingEnum.JSON;
        }
        if (encoding != EncodingEnum.JSON && encoding != EncodingEnum.XML) {
            return true;
        }
        // HAPI keeps the bytes it loads here and parses the same bytes afterwards.
        byte[] body = request.loadRequestContents();
        if (body == null || body.length == 0) {
            return true;
        }
        if (!isUtf8(body)) {
            throw SafeFhirException.badRequest("The request body is not valid UTF-8");
        }
        if (encoding == EncodingEnum.JSON) {
            checkJson(body);
        } else {
            checkXml(body);
        }
        return true;
    }

    /**
     * The same scan for a JSON document a request carries inside another (a JSON Patch in a
     * Bundle's Binary entry), which the scan of the request body saw only as base64.
     */
    void checkEmbeddedJson(byte[] document) {
        if (!isUtf8(document)) {
            throw SafeFhirException.badRequest("An embedded JSON document is not valid UTF-8");
        }
        checkJson(document);
    }

    private static boolean isUtf8(byte[] body) {
        try {
            StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    private SafeFhirException tooDeep() {
        return new SafeFhirException(400, IssueType.TOOLONG, "The request body is nested more than " + maxDepth
                + " levels deep");
    }

    private void checkJson(byte[] body) {
        try (JsonParser parser = json.createParser(body)) {
            // the keys seen so far in each open object; null for an open array
            Deque<Set<String>> open = new ArrayDeque<>();
            String lastName = null;
            for (JsonToken token = parser.nextToken(); token != null;
                    lastName = token == JsonToken.FIELD_NAME ? parser.currentName() : null, token = parser.nextToken()) {
                if (open.peek() == EXTENSIONS && token != JsonToken.START_OBJECT && token != JsonToken.END_ARRAY) {
                    // HAPI's JSON parser takes every entry of an extension array as an object: a 500 (found by fuzzing)
                    throw SafeFhirException.badRequest("The request body has an extension that is not a JSON object");
                }
                if (token.isStructStart()) {
                    if (open.size() + 1 > maxDepth) {
                        throw tooDeep();
                    }
                    boolean extensions = token == JsonToken.START_ARRAY && open.peek() != NO_KEYS
                            && open.peek() != EXTENSIONS
                            && ("extension".equals(lastName) || "modifierExtension".equals(lastName));
                    open.push(token == JsonToken.START_OBJECT ? new HashSet<>() : extensions ? EXTENSIONS : NO_KEYS);
                } else if (token.isStructEnd()) {
                    open.pop();
                } else if (token == JsonToken.FIELD_NAME) {
                    if (parser.currentName().isEmpty()) {
                        // HAPI's JSON parser indexes the name's first character: a 500 (found by fuzzing)
                        throw SafeFhirException.badRequest("The request body has a JSON property with an empty name");
                    }
                    if (!open.peek().add(parser.currentName())) {
                        throw SafeFhirException.badRequest("The request body has the same JSON property twice in one "
                                + "object");
                    }
                    refuseForbiddenCharacters(parser.currentName());
                } else if (token == JsonToken.VALUE_STRING) {
                    refuseForbiddenCharacters(parser.getText());
                }
            }
        } catch (IOException unreadable) {
            // HAPI's parser refuses it
        }
    }

    /**
     * Refuses a decoded string with a character outside XML 1.0's {@code Char} production. The
     * message names the problem only: the string is the caller's data.
     */
    static void refuseForbiddenCharacters(String value) {
        if (value != null && !isStorable(value)) {
            throw SafeFhirException.badRequest("The request body has a string with a control character or an "
                    + "unpaired surrogate, which FHIR strings cannot hold");
        }
    }

    /** Whether every character is one XML 1.0 (and so FHIR) can carry, surrogates only in pairs. */
    static boolean isStorable(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                return false;
            }
            if (c == 0xFFFE || c == 0xFFFF) {
                return false;
            }
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return false;
            }
            if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    /** The marker for an open array, which has no keys; never added to. */
    private static final Set<String> NO_KEYS = Set.of();
    /** The marker for an open {@code extension} or {@code modifierExtension} array: objects only. */
    private static final Set<String> EXTENSIONS = java.util.Collections.unmodifiableSet(new HashSet<>());

    private void checkXml(byte[] body) {
        XMLStreamReader reader = null;
        try {
            reader = xml.createXMLStreamReader(new ByteArrayInputStream(body));
            String declared = reader.getCharacterEncodingScheme();
            if (declared != null && !declared.toUpperCase(Locale.ROOT).replace("_", "-").equals("UTF-8")) {
                throw new SafeFhirException(415, IssueType.NOTSUPPORTED, "XML request bodies must be UTF-8");
            }
            int depth = 0;
            while (reader.hasNext()) {
                int event = reader.next();
                if (event == XMLStreamConstants.DTD) {
                    throw SafeFhirException.badRequest("XML request bodies must not have a DOCTYPE");
                } else if (event == XMLStreamConstants.START_ELEMENT) {
                    if (++depth > maxDepth) {
                        throw tooDeep();
                    }
                    for (int i = 0; i < reader.getAttributeCount(); i++) {
                        refuseForbiddenCharacters(reader.getAttributeValue(i));
                    }
                } else if (event == XMLStreamConstants.CHARACTERS || event == XMLStreamConstants.CDATA
                        || event == XMLStreamConstants.SPACE) {
                    // XML 1.1 lets &#1; through the parser; what it decodes to is checked here
                    refuseForbiddenCharacters(reader.getText());
                } else if (event == XMLStreamConstants.END_ELEMENT) {
                    depth--;
                }
            }
        } catch (XMLStreamException unreadable) {
            // HAPI's parser refuses it
        } catch (RuntimeException lazy) {
            // Woodstox reports a malformed token met by getText() (a character reference "&#" followed by
            // no number) as an unchecked wrapper of its XMLStreamException, and HAPI's parser, on Woodstox too,
            // would meet the same: refused here (it was a 500, found by fuzzing)
            if (!(lazy.getCause() instanceof XMLStreamException)) {
                throw lazy;
            }
            throw SafeFhirException.badRequest("The request body is not well-formed XML");
        } finally {
            if (reader != null) {
                try {
                    reader.close();
                } catch (XMLStreamException ignored) {
                    // nothing was opened that needs closing: the input is a byte array
                }
            }
        }
    }
}
