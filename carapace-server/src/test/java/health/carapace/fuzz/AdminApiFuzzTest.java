package health.carapace.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.net.http.HttpRequest;

/**
 * Role documents ({@code PUT /admin/roles/{name}}) and the other admin APIs: disclosures,
 * shredding requests and decisions, assignments, compliance reports, metrics, the audit trail's
 * search. Role names always start with {@code fuzz-}, so that a document the fuzzer gets
 * accepted is a role nobody holds.
 */
class AdminApiFuzzTest extends FuzzTarget {

    static final String[] PERMISSIONS = {"view:demographics", "edit:demographics", "view:clinical_records",
        "view:audit", "manage:users", "manage:keys", "view:all_patients", "view:ssn", "break_glass", "*", ""};
    static final String[] CONSTRAINTS = {"ip_range", "time_window", "days", "hours", "timezone", "care_team", ""};

    @FuzzTest(maxDuration = "3m")
    void roleDocument(FuzzedDataProvider data) {
        String marker = FuzzMarkers.next();
        RolePut put = rolePut(data, marker);
        String path = "/admin/roles/" + SearchFuzzTest.encode(put.name()).replace("+", "%20");
        sendAndCheck(request(path).header("Content-Type", put.contentType())
                .header("Accept", "application/json").PUT(HttpRequest.BodyPublishers.ofString(put.document())), marker);
    }

    /** One {@code PUT /admin/roles/{name}}: the path's role name, the document, its content type. */
    record RolePut(String name, String document, String contentType) {}

    /** A role document with the marker inside (shared with the in-process target). */
    static RolePut rolePut(FuzzedDataProvider data, String marker) {
        String name = "fuzz-" + (data.consumeBoolean() ? data.consumeAsciiString(20) : "r" + data.consumeInt(0, 50));
        String document;
        if (data.consumeBoolean()) {
            document = data.consumeString(500) + marker + data.consumeRemainingAsString();
        } else {
            StringBuilder permissions = new StringBuilder();
            int count = data.consumeInt(0, 4);
            for (int i = 0; i < count; i++) {
                permissions.append(i == 0 ? "" : ",").append(FhirInputFuzzTest.quote(
                        data.consumeBoolean() ? data.pickValue(PERMISSIONS) : data.consumeString(30)));
            }
            String constraint = data.pickValue(CONSTRAINTS);
            String value = data.consumeString(120);
            String markedField = switch (data.consumeInt(0, 2)) {
                case 0 -> "\"role\":" + FhirInputFuzzTest.quote(name + marker);
                case 1 -> "\"role\":" + FhirInputFuzzTest.quote(name) + ",\"x" + marker + "\":1";
                default -> "\"role\":" + FhirInputFuzzTest.quote(name) + ",\"permissions_note\":"
                        + FhirInputFuzzTest.quote(marker);
            };
            document = "{" + markedField + ",\"permissions\":[" + permissions + (count > 0 && data.consumeBoolean()
                    ? "," + FhirInputFuzzTest.quote(marker) : "") + "],\"constraints\":{"
                    + FhirInputFuzzTest.quote(constraint) + ":" + (data.consumeBoolean() ? "[" + FhirInputFuzzTest
                    .quote(value + marker) + "]" : value) + "}" + data.consumeRemainingAsString() + "}";
        }
        return new RolePut(name, document, data.consumeBoolean() ? "application/json" : "application/json; charset=utf-8");
    }

    @FuzzTest(maxDuration = "3m")
    void adminRequests(FuzzedDataProvider data) {
        String marker = FuzzMarkers.next();
        String value = data.consumeString(80) + marker;
        String encoded = SearchFuzzTest.encode(value).replace("+", "%20");
        String other = SearchFuzzTest.encode(data.consumeString(40)).replace("+", "%20");
        HttpRequest.Builder request = switch (data.consumeInt(0, 9)) {
            case 0 -> request("/admin/audit/disclosures?patient=" + encoded + "&format=" + other).GET();
            case 1 -> request("/admin/audit/disclosures?patient=" + other + "&format=" + encoded).GET();
            case 2 -> request("/admin/keys/shredding").header("Content-Type", data.consumeBoolean()
                    ? "application/json" : "application/fhir+json")
                    .POST(HttpRequest.BodyPublishers.ofString(data.consumeBoolean()
                            ? "{\"patient\":" + FhirInputFuzzTest.quote(value) + ",\"retention\":"
                                + FhirInputFuzzTest.quote(data.consumeString(40)) + data.consumeRemainingAsString() + "}"
                            : data.consumeRemainingAsString() + marker));
            case 3 -> request("/admin/keys/shredding/" + encoded).GET();
            case 4 -> request("/admin/keys/shredding/" + encoded + (data.consumeBoolean() ? "/approve" : "/refuse"))
                    .POST(HttpRequest.BodyPublishers.ofString(data.consumeRemainingAsString() + marker));
            case 5 -> request("/admin/assignments/" + encoded + "/" + other).PUT(HttpRequest.BodyPublishers.noBody());
            case 6 -> request("/admin/assignments/" + other + "/" + encoded).DELETE();
            case 7 -> request("/admin/compliance/reports/" + encoded).GET();
            case 8 -> request("/admin/metrics?" + other + "=" + encoded).GET();
            default -> request("/fhir/AuditEvent?" + auditEventQuery(data, marker)).GET();
        };
        sendAndCheck(request.header("Accept", data.consumeBoolean() ? "application/json" : FHIR_JSON), marker);
    }

    static final String[] AUDIT_EVENT_PARAMETERS = {"patient", "agent", "date", "action", "outcome", "_count",
        "_format", "_summary", "_elements", "_pretty", "_getpagesoffset", "entity", "patient:Patient"};

    /**
     * An AuditEvent search's query: 1-3 parameters (known or fuzzed names), values shaped as its
     * parameters are (a patient reference, a {@code system|code} token, a prefixed date) or fuzzed,
     * the marker in one value or name (shared with the in-process target).
     */
    static String auditEventQuery(FuzzedDataProvider data, String marker) {
        StringBuilder query = new StringBuilder();
        int parameters = data.consumeInt(1, 3);
        int markedAt = data.consumeInt(0, parameters - 1);
        for (int i = 0; i < parameters; i++) {
            String name = data.consumeBoolean() ? data.pickValue(AUDIT_EVENT_PARAMETERS) : data.consumeString(20);
            String value = switch (data.consumeInt(0, 3)) {
                case 0 -> "Patient/" + data.consumeString(40);
                case 1 -> data.consumeString(20) + "|" + data.consumeString(10);
                case 2 -> data.pickValue(SearchFuzzTest.PREFIXES) + data.pickValue(new String[] {"2026", "2026-12",
                    "2026-12-05", "2026-12-05T10:00:00Z", "2026-12-05T10:00:00.123+01:00", ""}) + data.consumeString(20);
                default -> data.consumeString(80);
            };
            if (i == markedAt) {
                if (data.consumeBoolean()) {
                    name = name + marker;
                } else {
                    value = value + marker;
                }
            }
            query.append(i == 0 ? "" : "&").append(SearchFuzzTest.encode(name)).append('=')
                    .append(SearchFuzzTest.encode(value));
        }
        return query.toString();
    }
}
