package health.carapace.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.net.http.HttpRequest;

/**
 * Transaction and batch Bundles ({@code POST /fhir}): entry methods, URLs, fullUrls,
 * references between entries, conditional headers and resources, with the marker in one of them.
 */
class TransactionBundleFuzzTest extends FuzzTarget {

    static final String[] METHODS = {"POST", "PUT", "GET", "DELETE", "PATCH", "HEAD", "post", ""};
    static final String[] BUNDLE_TYPES = {"transaction", "batch", "collection", "searchset", "document", ""};

    @FuzzTest(maxDuration = "3m")
    void bundle(FuzzedDataProvider data) {
        String marker = FuzzMarkers.next();
        sendAndCheck(request("/fhir").header("Content-Type", FHIR_JSON).header("Accept", FHIR_JSON)
                .POST(HttpRequest.BodyPublishers.ofString(document(data, marker))), marker);
    }

    /** A Bundle of 0-4 entries, the marker in one URL, fullUrl, reference or name (shared with the in-process target). */
    static String document(FuzzedDataProvider data, String marker) {
        int entries = data.consumeInt(0, 4);
        int markedAt = data.consumeInt(0, Math.max(0, entries - 1));
        StringBuilder body = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":")
                .append(FhirInputFuzzTest.quote(data.pickValue(BUNDLE_TYPES))).append(",\"entry\":[");
        for (int i = 0; i < entries; i++) {
            String type = data.pickValue(FhirInputFuzzTest.TYPES);
            String method = data.pickValue(METHODS);
            String url = switch (data.consumeInt(0, 3)) {
                case 0 -> type;
                case 1 -> type + "/" + data.consumeString(40);
                case 2 -> type + "?" + data.consumeString(80);
                default -> data.consumeString(80);
            };
            String fullUrl = data.consumeBoolean() ? "urn:uuid:" + java.util.UUID.randomUUID() : data.consumeString(60);
            String reference = data.consumeBoolean() ? "urn:uuid:" + data.consumeString(40) : data.consumeString(40);
            String family = data.consumeString(60);
            int where = i == markedAt ? data.consumeInt(0, 3) : -1;
            if (where == 0) {
                url = url + marker;
            } else if (where == 1) {
                fullUrl = fullUrl + marker;
            } else if (where == 2) {
                reference = reference + marker;
            } else if (where == 3) {
                family = family + marker;
            }
            body.append(i == 0 ? "" : ",").append("{\"fullUrl\":").append(FhirInputFuzzTest.quote(fullUrl))
                    .append(",\"resource\":{\"resourceType\":").append(FhirInputFuzzTest.quote(type))
                    .append(",\"name\":[{\"family\":").append(FhirInputFuzzTest.quote(family)).append("}]")
                    .append(",\"subject\":{\"reference\":").append(FhirInputFuzzTest.quote(reference)).append("}")
                    .append(data.consumeBoolean() ? "," + data.consumeString(100) : "").append("}")
                    .append(",\"request\":{\"method\":").append(FhirInputFuzzTest.quote(method))
                    .append(",\"url\":").append(FhirInputFuzzTest.quote(url));
            if (data.consumeBoolean()) {
                body.append(",\"ifMatch\":").append(FhirInputFuzzTest.quote(data.consumeString(20)));
            }
            if (data.consumeBoolean()) {
                body.append(",\"ifNoneExist\":").append(FhirInputFuzzTest.quote(data.consumeString(60)));
            }
            body.append("}}");
        }
        body.append("]").append(data.consumeRemainingAsString()).append("}");
        return entries == 0 ? body + marker : body.toString();
    }
}
