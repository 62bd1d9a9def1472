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
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/**
 * Refuses request bodies nested deeper than {@code carapace.fhir.max-json-depth} with 400, before
 * HAPI parses them. JSON depth counts objects and arrays (as Jackson does); XML depth counts
 * elements.
 *
 * <p>HAPI cannot be told the bound itself: it parses JSON with a private static Jackson mapper
 * whose constraints start from Jackson's built-in nesting limit (1000), whatever
 * {@code StreamReadConstraints.overrideDefaultStreamReadConstraints} says, and parses XML with
 * no depth limit at all. HAPI's parser and encoder recurse once per level, so a deep body was
 * either stored (and re-read on every access) or failed with 500 deep in the stack.
 *
 * <p>Only depth is judged here: a body this scan cannot read is left to HAPI's parser, which
 * refuses it with its own (sanitised) 400, so malformed input has one code path.
 */
@Interceptor
final class NestingLimit {

    private final int maxDepth;
    private final JsonFactory json;
    private final XMLInputFactory xml;

    NestingLimit(int maxDepth) {
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
        // The scan never expands anything: no DTD, no entities, nothing fetched.
        xml.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        xml.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        xml.setProperty(XMLInputFactory.IS_REPLACING_ENTITY_REFERENCES, false);
    }

    @Hook(Pointcut.SERVER_INCOMING_REQUEST_POST_PROCESSED)
    public boolean checkDepth(RequestDetails request) {
        String method = request.getRequestType() == null ? "" : request.getRequestType().name();
        if (!method.equals("POST") && !method.equals("PUT") && !method.equals("PATCH")) {
            return true;
        }
        EncodingEnum encoding = RestfulServerUtils.determineRequestEncodingNoDefault(request);
        if (encoding != EncodingEnum.JSON && encoding != EncodingEnum.XML) {
            return true;
        }
        // HAPI keeps the bytes it loads here and parses the same bytes afterwards.
        byte[] body = request.loadRequestContents();
        if (body == null || body.length == 0) {
            return true;
        }
        boolean tooDeep = encoding == EncodingEnum.JSON ? jsonTooDeep(body) : xmlTooDeep(body);
        if (tooDeep) {
            throw new SafeFhirException(400, IssueType.TOOLONG,
                    "The request body is nested more than " + maxDepth + " levels deep");
        }
        return true;
    }

    private boolean jsonTooDeep(byte[] body) {
        try (JsonParser parser = json.createParser(body)) {
            int depth = 0;
            for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
                if (token.isStructStart()) {
                    if (++depth > maxDepth) {
                        return true;
                    }
                } else if (token.isStructEnd()) {
                    depth--;
                }
            }
            return false;
        } catch (IOException unreadable) {
            return false;
        }
    }

    private boolean xmlTooDeep(byte[] body) {
        XMLStreamReader reader = null;
        try {
            reader = xml.createXMLStreamReader(new ByteArrayInputStream(body));
            int depth = 0;
            while (reader.hasNext()) {
                int event = reader.next();
                if (event == XMLStreamConstants.START_ELEMENT) {
                    if (++depth > maxDepth) {
                        return true;
                    }
                } else if (event == XMLStreamConstants.END_ELEMENT) {
                    depth--;
                }
            }
            return false;
        } catch (XMLStreamException unreadable) {
            return false;
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
