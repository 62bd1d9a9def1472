package health.carapace.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.net.http.HttpRequest;

/**
 * The FHIR JSON and XML input path: create and update bodies of every resource type, either a
 * fuzzed document around a marker or a valid skeleton with fuzzed elements and values.
 */
class FhirInputFuzzTest extends FuzzTarget {

    static final String[] TYPES = {"Patient", "Observation", "Encounter", "Condition", "AllergyIntolerance",
        "MedicationRequest", "Procedure", "DiagnosticReport", "ImagingStudy", "DocumentReference", "Immunization",
        "CarePlan", "CareTeam", "Appointment", "Practitioner", "Organization", "Bundle", "AuditEvent", "Unknown"};

    static final String[] ELEMENTS = {"name", "identifier", "birthDate", "gender", "subject", "code", "valueString",
        "valueQuantity", "text", "contained", "extension", "meta", "id", "status", "telecom", "address", "period",
        "effectiveDateTime", "participant", "resourceType", "_birthDate", "modifierExtension"};

    @FuzzTest(maxDuration = "3m")
    void json(FuzzedDataProvider data) {
        String marker = FuzzMarkers.next();
        String type = data.pickValue(TYPES);
        send(data, type, jsonBody(data, type, marker), FHIR_JSON, marker);
    }

    /** A JSON body of {@code type} with {@code marker} inside (shared with the in-process target). */
    static String jsonBody(FuzzedDataProvider data, String type, String marker) {
        String body;
        if (data.consumeBoolean()) {
            // a document of the fuzzer's, with the marker somewhere inside it
            String before = data.consumeString(2000);
            body = before + marker + data.consumeRemainingAsString();
        } else {
            String element = data.consumeBoolean() ? data.pickValue(ELEMENTS) : data.consumeString(40);
            String value = data.consumeString(500);
            String rendered = switch (data.consumeInt(0, 4)) {
                case 0 -> quote(value + marker);
                case 1 -> "[" + quote(marker) + "," + value + "]";
                case 2 -> "{\"value\":" + quote(marker) + "," + value + "}";
                case 3 -> value + marker;
                default -> "[{\"family\":" + quote(marker) + ",\"given\":[" + value + "]}]";
            };
            body = "{\"resourceType\":" + quote(type) + ",\"name\":[{\"family\":" + quote(marker) + "}],"
                    + quote(element) + ":" + rendered + data.consumeRemainingAsString() + "}";
        }
        return body;
    }

    @FuzzTest(maxDuration = "3m")
    void xml(FuzzedDataProvider data) {
        String marker = FuzzMarkers.next();
        String type = data.pickValue(TYPES);
        send(data, type, xmlBody(data, type, marker), FHIR_XML, marker);
    }

    /** An XML body of {@code type} with {@code marker} inside (shared with the in-process target). */
    static String xmlBody(FuzzedDataProvider data, String type, String marker) {
        String body;
        if (data.consumeBoolean()) {
            String before = data.consumeString(2000);
            body = before + marker + data.consumeRemainingAsString();
        } else {
            String element = data.consumeBoolean() ? data.pickValue(ELEMENTS) : data.consumeString(40);
            String value = data.consumeString(500);
            String inner = switch (data.consumeInt(0, 3)) {
                case 0 -> "<" + element + " value=\"" + value + marker + "\"/>";
                case 1 -> "<" + element + ">" + value + "<family value=\"" + marker + "\"/></" + element + ">";
                case 2 -> "<" + element + marker + " value=\"" + value + "\"/>";
                default -> "<text><div xmlns=\"http://www.w3.org/1999/xhtml\">" + value + marker + "</div></text>";
            };
            String prolog = data.consumeBoolean() ? data.consumeString(300) : "";
            body = prolog + "<" + type + " xmlns=\"http://hl7.org/fhir\">" + inner + data.consumeRemainingAsString()
                    + "</" + type + ">";
        }
        return body;
    }

    private void send(FuzzedDataProvider unusedAfterBody, String type, String body, String contentType, String marker) {
        // create: the fuzzed body against the type's endpoint (an update needs a stored id: see the bundle target)
        sendAndCheck(request("/fhir/" + type).header("Content-Type", contentType).header("Accept", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)), marker);
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
