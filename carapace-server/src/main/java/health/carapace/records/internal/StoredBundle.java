package health.carapace.records.internal;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.ResponseDetails;
import ca.uhn.fhir.rest.server.RestfulServerUtils;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Set;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Meta;
import org.hl7.fhir.r4.model.Resource;

/**
 * A page of search results is written with each record's stored JSON as it is, around the Bundle
 * HAPI built, instead of HAPI encoding every resource again (issue 13: the search's largest share
 * after decryption). Only when nothing must change: JSON, not pretty, not gzip, no {@code _elements},
 * {@code _summary} or {@code _count=0}, every entry a record loaded with its stored JSON and none whose SSNs this
 * caller must see masked, and a Bundle holding nothing but what a search page holds (id, last
 * updated, type, total, links, entries with full URL and search mode). Anything else is left to
 * HAPI, after {@link SsnMasking}. Runs last, after the links were made opaque.
 */
@Interceptor
final class StoredBundle {

    /** Where {@link RecordStore} leaves a loaded record's stored JSON on the resource it parsed. */
    static final String STORED = StoredBundle.class.getName() + ".stored";

    private static final JsonFactory JSON = new JsonFactory();
    private static final Set<String> SHAPING = Set.of(Constants.PARAM_ELEMENTS, Constants.PARAM_SUMMARY,
            Constants.PARAM_PRETTY, Constants.PARAM_FORMAT, Constants.PARAM_NARRATIVE);

    private final RecordGuard guard;

    StoredBundle(RecordGuard guard) {
        this.guard = guard;
    }

    @Hook(value = Pointcut.SERVER_OUTGOING_RESPONSE, order = InterceptorOrder.STORED_BUNDLE)
    public boolean send(RequestDetails request, ResponseDetails response) throws IOException {
        RestOperationTypeEnum operation = request.getRestOperationType();
        if ((operation != RestOperationTypeEnum.SEARCH_TYPE && operation != RestOperationTypeEnum.SEARCH_SYSTEM
                && operation != RestOperationTypeEnum.GET_PAGE)
                || !(response.getResponseResource() instanceof Bundle bundle) || !plain(request) || !searchPage(bundle)) {
            return true;
        }
        boolean ssnVisible = guard.maySeeSsn();
        for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
            if (!(entry.getResource().getUserData(STORED) instanceof StoredJson stored)
                    || (stored.ssn() != StoredJson.Ssn.ABSENT && !ssnVisible)) {
                return true;
            }
        }
        byte[] json = encode(bundle);
        HttpServletResponse servlet = ((ServletRequestDetails) request).getServletResponse();
        servlet.setStatus(Constants.STATUS_HTTP_200_OK);
        servlet.setContentType(RestfulServerUtils.determineResponseEncodingWithDefault(request).getResourceContentType());
        servlet.setCharacterEncoding(Constants.CHARSET_NAME_UTF8);
        if (bundle.getMeta().hasLastUpdated()) {
            // as HAPI writes it for a Bundle
            servlet.setHeader(Constants.HEADER_LAST_MODIFIED, RecordReads.httpDate(bundle.getMeta().getLastUpdated()));
        }
        servlet.setContentLength(json.length);
        servlet.getOutputStream().write(json);
        return false;
    }

    /**
     * JSON, not pretty, not compressed, and no parameter that shapes or re-formats the resources.
     * {@code _count=0} asks for the total alone: HAPI still loads a page, then writes only the
     * Bundle's type and total.
     */
    private static boolean plain(RequestDetails request) {
        for (var parameter : request.getParameters().entrySet()) {
            String name = parameter.getKey().split(":", 2)[0];
            if (SHAPING.contains(name) || (name.equals(Constants.PARAM_COUNT)
                    && java.util.Arrays.stream(parameter.getValue()).anyMatch(StoredBundle::zeroOrUnclear))) {
                return false;
            }
        }
        return !request.isRespondGzip() && RecordReads.compactJson(request);
    }

    /** A {@code _count} of zero, or one this cannot read (then HAPI decides). */
    private static boolean zeroOrUnclear(String count) {
        try {
            return Integer.parseInt(count.strip()) == 0;
        } catch (NumberFormatException e) {
            return true;
        }
    }

    /** Whether the Bundle holds only what {@link #encode} writes. */
    static boolean searchPage(Bundle bundle) {
        Meta meta = bundle.getMeta();
        if (bundle.getType() != Bundle.BundleType.SEARCHSET || !bundle.hasId() || bundle.hasIdentifier()
                || bundle.hasTimestamp() || bundle.hasSignature() || bundle.hasImplicitRules() || bundle.hasLanguage()
                || meta.hasVersionId() || meta.hasProfile() || meta.hasSecurity() || meta.hasTag() || meta.hasSource()
                || meta.hasExtension() || meta.hasId()) {
            return false;
        }
        for (Bundle.BundleLinkComponent link : bundle.getLink()) {
            if (!link.hasRelation() || !link.hasUrl() || link.hasExtension() || link.hasModifierExtension() || link.hasId()) {
                return false;
            }
        }
        for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
            Bundle.BundleEntrySearchComponent search = entry.getSearch();
            if (!entry.hasFullUrl() || !entry.hasResource() || entry.hasRequest() || entry.hasResponse()
                    || entry.hasLink() || entry.hasExtension() || entry.hasModifierExtension() || entry.hasId()
                    || search.hasScore() || search.hasExtension() || search.hasModifierExtension() || search.hasId()) {
                return false;
            }
        }
        return true;
    }

    /** The Bundle as HAPI's JSON encoder writes it, with each entry's resource as stored. */
    static byte[] encode(Bundle bundle) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        try (JsonGenerator json = JSON.createGenerator(out, JsonEncoding.UTF8)) {
            json.writeStartObject();
            json.writeStringField("resourceType", "Bundle");
            json.writeStringField("id", bundle.getIdElement().getIdPart());
            if (bundle.getMeta().hasLastUpdated()) {
                json.writeObjectFieldStart("meta");
                json.writeStringField("lastUpdated", bundle.getMeta().getLastUpdatedElement().getValueAsString());
                json.writeEndObject();
            }
            json.writeStringField("type", bundle.getType().toCode());
            if (bundle.hasTotal()) {
                json.writeNumberField("total", bundle.getTotal());
            }
            if (bundle.hasLink()) {
                json.writeArrayFieldStart("link");
                for (Bundle.BundleLinkComponent link : bundle.getLink()) {
                    json.writeStartObject();
                    json.writeStringField("relation", link.getRelation());
                    json.writeStringField("url", link.getUrl());
                    json.writeEndObject();
                }
                json.writeEndArray();
            }
            if (bundle.hasEntry()) {
                json.writeArrayFieldStart("entry");
                for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
                    json.writeStartObject();
                    json.writeStringField("fullUrl", entry.getFullUrl());
                    json.writeFieldName("resource");
                    json.writeRawValue(new String(((StoredJson) entry.getResource().getUserData(STORED)).json(),
                            java.nio.charset.StandardCharsets.UTF_8));
                    if (entry.getSearch().hasMode()) {
                        json.writeObjectFieldStart("search");
                        json.writeStringField("mode", entry.getSearch().getMode().toCode());
                        json.writeEndObject();
                    }
                    json.writeEndObject();
                }
                json.writeEndArray();
            }
            json.writeEndObject();
        }
        return out.toByteArray();
    }

    /** Leaves {@code stored} on the resource parsed from it, for {@link #send}. */
    static Resource attach(Resource resource, StoredJson stored) {
        resource.setUserData(STORED, stored);
        return resource;
    }
}
