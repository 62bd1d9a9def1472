package health.carapace.records.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

/**
 * A create or update answers with the JSON serialised once for encryption (issue 13): the same
 * headers as before, the stored id and version, and never the stored bytes of a record holding an
 * SSN to a caller without {@code view:ssn}; {@code Prefer} and XML are still HAPI's.
 */
class WritesAnswerWithTheStoredJsonTest extends IntegrationTest {

    private static final String SSN = "871-23-4502";

    @Test
    void aCreateAnswersWithTheStoredVersionAndItsHeaders() {
        HttpResponse<String> created = post("/fhir/Patient", token(), "{\"resourceType\":\"Patient\",\"gender\":\"other\"}", null);

        assertThat(created.statusCode()).isEqualTo(201);
        Patient patient = fhir.newJsonParser().parseResource(Patient.class, created.body());
        String id = patient.getIdElement().getIdPart();
        assertThat(patient.getMeta().getVersionId()).isEqualTo("1");
        assertThat(created.headers().firstValue("Location")).hasValueSatisfying(location -> assertThat(location)
                .endsWith("/fhir/Patient/" + id + "/_history/1"));
        assertThat(created.headers().firstValue("ETag")).hasValue("W/\"1\"");
        assertThat(created.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type)
                .startsWith("application/fhir+json"));
        // HAPI's encoder streams (chunked); the stored bytes go out with their length
        assertThat(created.headers().firstValue("Content-Length")).as("sent as stored").isPresent();
        HttpResponse<String> read = send(HttpRequest.newBuilder(uri("/fhir/Patient/" + id)).GET());
        assertThat(read.body()).isEqualTo(created.body());

        HttpResponse<String> updated = send(HttpRequest.newBuilder(uri("/fhir/Patient/" + id))
                .header("Content-Type", "application/fhir+json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"male\"}")));
        assertThat(updated.statusCode()).isEqualTo(200);
        assertThat(updated.headers().firstValue("ETag")).hasValue("W/\"2\"");
        assertThat(updated.body()).isEqualTo(send(HttpRequest.newBuilder(uri("/fhir/Patient/" + id)).GET()).body());
    }

    @Test
    void theEchoOfARecordHoldingAnSsnIsMaskedForACallerWithoutViewSsn() {
        String noSsn = tokenWithRoles("echo-no-ssn", "records-service");
        String body = "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"http://hl7.org/fhir/sid/us-ssn\",\"value\":\""
                + SSN + "\"}]}";

        HttpResponse<String> created = post("/fhir/Patient", noSsn, body, null);

        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(created.body()).doesNotContain(SSN).contains("***-**-4502");
        assertThat(post("/fhir/Patient", token(), body, null).body()).as("with view:ssn").contains(SSN);
    }

    @Test
    void preferAndXmlAreStillAnsweredAsAsked() {
        HttpResponse<String> minimal = post("/fhir/Patient", token(), "{\"resourceType\":\"Patient\"}", "return=minimal");
        HttpResponse<String> xml = send(HttpRequest.newBuilder(uri("/fhir/Patient")).header("Accept", "application/fhir+xml")
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\"}")));

        assertThat(minimal.statusCode()).isEqualTo(201);
        assertThat(minimal.body()).doesNotContain("resourceType");
        assertThat(xml.statusCode()).isEqualTo(201);
        assertThat(xml.body()).startsWith("<Patient xmlns=\"http://hl7.org/fhir\">");
    }

    private HttpResponse<String> post(String path, String token, String json, String prefer) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(json));
        if (prefer != null) {
            request.header("Prefer", prefer);
        }
        return sendWithoutToken(request);
    }
}
