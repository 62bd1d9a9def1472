package health.carapace.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;

/**
 * Search parameters: names, modifiers, prefixes and values of every type's search, as a query
 * string (encoded) and as a {@code _search} form body (raw: malformed percent-escapes, odd
 * separators and bytes reach the server as sent).
 */
class SearchFuzzTest extends FuzzTarget {

    static final String[] NAMES = {"_id", "_lastUpdated", "_count", "_sort", "_include", "_revinclude", "_has",
        "_summary", "_elements", "_format", "_pretty", "family", "given", "name", "birthdate", "gender", "identifier",
        "patient", "subject", "code", "date", "status", "subject:Patient.name", "patient.family", "page", "_getpages"};

    static final String[] MODIFIERS = {"", ":exact", ":contains", ":missing", ":not", ":text", ":above", ":below",
        ":in", ":of-type", ":Patient", ":identifier", ":iterate"};

    static final String[] PREFIXES = {"", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"};

    @FuzzTest(maxDuration = "3m")
    void queryString(FuzzedDataProvider data) {
        String marker = FuzzMarkers.next();
        String type = data.pickValue(FhirInputFuzzTest.TYPES);
        sendAndCheck(request("/fhir/" + type + "?" + query(data, marker)).header("Accept", FHIR_JSON).GET(), marker);
    }

    /** 1-4 encoded parameters, the marker in one name or value (shared with the in-process target). */
    static String query(FuzzedDataProvider data, String marker) {
        StringBuilder query = new StringBuilder();
        int parameters = data.consumeInt(1, 4);
        int markedAt = data.consumeInt(0, parameters - 1);
        for (int i = 0; i < parameters; i++) {
            String name = data.consumeBoolean() ? data.pickValue(NAMES) : data.consumeString(30);
            String value = data.pickValue(PREFIXES) + data.consumeString(200);
            if (i == markedAt) {
                if (data.consumeBoolean()) {
                    name = name + marker;
                } else {
                    value = value + marker;
                }
            }
            query.append(i == 0 ? "" : "&").append(encode(name + data.pickValue(MODIFIERS))).append('=')
                    .append(encode(value));
        }
        return query.toString();
    }

    @FuzzTest(maxDuration = "3m")
    void formBody(FuzzedDataProvider data) {
        String marker = FuzzMarkers.next();
        String type = data.pickValue(FhirInputFuzzTest.TYPES);
        String body = form(data, marker);
        sendAndCheck(request("/fhir/" + type + "/_search").header("Accept", FHIR_JSON)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)), marker);
    }

    /** A raw form body around one known parameter carrying the marker (shared with the in-process target). */
    static String form(FuzzedDataProvider data, String marker) {
        String name = data.pickValue(NAMES) + data.pickValue(MODIFIERS);
        return data.consumeString(300) + name + "=" + data.pickValue(PREFIXES) + marker + data.consumeRemainingAsString();
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
