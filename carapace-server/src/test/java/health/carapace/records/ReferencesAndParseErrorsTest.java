package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;

/**
 * One reference rule everywhere (ADR 0021): a reference to a record of a served type that does not
 * exist is refused in every write, naming the element (issue.expression), never the reference; a
 * transaction may reference what it creates itself. Parse errors name the element (its path where
 * the parser gives a location), never a value, and never a key that is not shaped like an element name.
 */
class ReferencesAndParseErrorsTest extends IntegrationTest {

    private final String stem = "Refs" + Fakes.letters(8);

    @Test
    void aReferenceToAMissingRecordIsRefusedInEveryWriteNamingTheElement() {
        String patient = created(post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + stem + "\"}]}"));
        String missing = UUID.randomUUID().toString();
        assertMissing(post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"performer\":[{\"reference\":\"Practitioner/"
                + missing + "\"}]}"), missing, "Observation.performer");
        // Patient.link was stored whatever it named; now it follows the same rule as Observation.subject
        assertMissing(post("Patient", "{\"resourceType\":\"Patient\",\"link\":[{\"other\":{\"reference\":\"Patient/"
                + missing + "\"},\"type\":\"seealso\"}]}"), missing, "Patient.link.other");
        assertMissing(send(HttpRequest.newBuilder(uri("/fhir/Patient/" + patient))
                .header("Content-Type", "application/json-patch+json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("[{\"op\":\"add\",\"path\":\"/generalPractitioner\","
                        + "\"value\":[{\"reference\":\"Practitioner/" + missing + "\"}]}]"))), missing, "Patient.generalPractitioner");
        HttpResponse<String> conditional = post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\","
                + "\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"performer\":[{"
                + "\"reference\":\"Practitioner?identifier=zqsecret\"}]}");
        assertThat(conditional.statusCode()).isEqualTo(400);
        assertThat(conditional.body()).doesNotContain("zqsecret");
        // a deleted record is not there to reference either
        String practitioner = created(post("Practitioner", "{\"resourceType\":\"Practitioner\",\"active\":true}"));
        assertThat(send(HttpRequest.newBuilder(uri("/fhir/Practitioner/" + practitioner)).DELETE()).statusCode()).isIn(200, 204);
        assertMissing(post("Patient", "{\"resourceType\":\"Patient\",\"generalPractitioner\":[{\"reference\":"
                + "\"Practitioner/" + practitioner + "\"}]}"), practitioner, "Patient.generalPractitioner");
        // other servers' records and contained ones are not this server's to check
        assertThat(post("Patient", "{\"resourceType\":\"Patient\",\"generalPractitioner\":[{\"reference\":"
                + "\"https://elsewhere.example/fhir/Practitioner/1\"}]}").statusCode()).isEqualTo(201);
    }

    @Test
    void aTransactionMayReferenceWhatItCreatesInAnyOrder() {
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"urn:uuid:0b0c7a52-1f0e-4f7e-9d57-1c2d3e4f5a60\"},\"encounter\":{\"reference\":"
                + "\"urn:uuid:0b0c7a52-1f0e-4f7e-9d57-1c2d3e4f5a61\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}},"
                + "{\"fullUrl\":\"urn:uuid:0b0c7a52-1f0e-4f7e-9d57-1c2d3e4f5a61\",\"resource\":{\"resourceType\":\"Encounter\","
                + "\"status\":\"finished\",\"class\":{\"code\":\"AMB\"},\"subject\":{\"reference\":"
                + "\"urn:uuid:0b0c7a52-1f0e-4f7e-9d57-1c2d3e4f5a60\"}},\"request\":{\"method\":\"POST\",\"url\":\"Encounter\"}},"
                + "{\"fullUrl\":\"urn:uuid:0b0c7a52-1f0e-4f7e-9d57-1c2d3e4f5a60\",\"resource\":{\"resourceType\":\"Patient\","
                + "\"name\":[{\"family\":\"" + stem + "\"}]},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}";
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir"))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(bundle)));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        String broken = bundle.replace("0b0c7a52-1f0e-4f7e-9d57-1c2d3e4f5a61\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"",
                "0b0c7a52-1f0e-4f7e-9d57-1c2d3e4f5a61\"},\"performer\":[{\"reference\":\"Practitioner/" + UUID.randomUUID()
                        + "\"}]},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"");
        HttpResponse<String> refused = send(HttpRequest.newBuilder(uri("/fhir"))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(broken)));
        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(count("Patient?family=" + stem)).isEqualTo(1);
    }

    @Test
    void parseErrorsNameTheElementPathButNoValueAndNoKeyThatCarriesData() {
        HttpResponse<String> unknown = post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"x\","
                + "\"zqsecretkey\":\"zqsecret\"}]}");
        assertThat(unknown.statusCode()).isEqualTo(400);
        OperationOutcome outcome = Refusals.outcomeOf(unknown);
        assertThat(outcome.getIssueFirstRep().getCode()).isEqualTo(OperationOutcome.IssueType.STRUCTURE);
        assertThat(outcome.getIssueFirstRep().getDiagnostics()).contains("Unknown element");
        // neither the unknown key (input, possibly data) nor its value is echoed
        assertThat(unknown.body()).doesNotContain("zqsecret");

        HttpResponse<String> wrongType = post("Patient", "{\"resourceType\":\"Patient\",\"active\":\"zqsecret\"}");
        assertThat(wrongType.statusCode()).isEqualTo(400);
        assertThat(wrongType.body()).doesNotContain("zqsecret");

        HttpResponse<String> dataAsKey = post("Patient", "{\"resourceType\":\"Patient\",\"zq123456789\":true}");
        assertThat(dataAsKey.statusCode()).isEqualTo(400);
        assertThat(dataAsKey.body()).doesNotContain("123456789");

        HttpResponse<String> invalid = post("Patient", "{\"resourceType\":\"Patient\",\"birthDate\":\"zq-13-45\"}");
        assertThat(invalid.statusCode()).isEqualTo(400);
        assertThat(invalid.body()).doesNotContain("zq-13-45");
    }

    /** Issue 17: the unknown element is named by its schema path, in JSON and XML, never with a value or a data key. */
    @Test
    void anUnknownElementOrInvalidValueIsNamedByItsSchemaPathInJsonAndXml() {
        String canary = "zqcanary" + Fakes.digits(9);
        assertNamed(post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"x\",\"foo\":\"" + canary
                + "\"}]}"), "Patient.name", canary);
        // a name FHIR defines elsewhere is schema, so it is named; a key that is not may be data, so it is not
        assertNamed(post("Patient", "{\"resourceType\":\"Patient\",\"status\":\"" + canary + "\"}"), "Patient.status", canary);
        assertNamed(post("Patient", "{\"resourceType\":\"Patient\",\"contact\":[{\"name\":{\"" + canary + "\":1}}]}"),
                "Patient.contact.name", canary);
        assertNamed(postXml("Patient", "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"x\"/><"
                + canary + " value=\"" + canary + "\"/></name></Patient>"), "Patient.name", canary);
        assertNamed(postXml("Patient", "<Patient xmlns=\"http://hl7.org/fhir\"><active value=\"true\"/><foo value=\""
                + canary + "\"/></Patient>"), "Patient", canary);
        // an invalid value of a known element: the element's path, never the value
        assertNamed(post("Patient", "{\"resourceType\":\"Patient\",\"birthDate\":\"" + canary + "\"}"),
                "Patient.birthDate", canary);
        assertNamed(postXml("Patient", "<Patient xmlns=\"http://hl7.org/fhir\"><birthDate value=\"" + canary
                + "\"/></Patient>"), "Patient.birthDate", canary);
        // inside a transaction, the path goes through the entry to the resource
        assertNamed(send(HttpRequest.newBuilder(uri("/fhir")).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
                        + "\"entry\":[{\"resource\":{\"resourceType\":\"Patient\",\"name\":[{\"foo\":\"" + canary
                        + "\"}]},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}"))),
                "Bundle.entry.resource.ofType(Patient).name", canary);
        assertThat(count("Patient?family=" + canary)).isZero();
    }

    private void assertNamed(HttpResponse<String> response, String path, String canary) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        OperationOutcome outcome = Refusals.outcomeOf(response);
        assertThat(outcome.getIssueFirstRep().getCode()).isEqualTo(OperationOutcome.IssueType.STRUCTURE);
        assertThat(outcome.getIssueFirstRep().getExpression()).extracting(e -> e.getValue()).as(response.body())
                .containsExactly(path);
        assertThat(outcome.getIssueFirstRep().getDiagnostics()).contains(path);
        assertThat(response.body()).doesNotContain(canary).doesNotContain(canary.substring(8));
    }

    private HttpResponse<String> postXml(String type, String xml) {
        return send(HttpRequest.newBuilder(uri("/fhir/" + type)).header("Content-Type", "application/fhir+xml")
                .header("Accept", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(xml)));
    }

    private void assertMissing(HttpResponse<String> response, String id, String element) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        OperationOutcome outcome = Refusals.outcomeOf(response);
        assertThat(outcome.getIssueFirstRep().getExpression()).extracting(e -> e.getValue()).containsExactly(element);
        assertThat(response.body()).doesNotContain(id);
    }

    private HttpResponse<String> post(String type, String json) {
        return send(HttpRequest.newBuilder(uri("/fhir/" + type)).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    private String created(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(response.body()).getIdElement().getIdPart();
    }

    private int count(String query) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir/" + query)).GET());
        return fhir.newJsonParser().parseResource(org.hl7.fhir.r4.model.Bundle.class, response.body()).getTotal();
    }
}
