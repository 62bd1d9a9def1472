package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.ServiceClients;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * No record about a patient lands in the shared compartment, where a type's permission alone is
 * enough to read it (review finding F1): a Provenance is in its targets' compartment, a
 * patient-linked type must name a Patient unless it may be shared, and an update never moves a
 * patient's record out of the patient's compartment.
 */
class PatientLinkedRecordsTest extends IntegrationTest {

    private static final String JSON_PATCH = "application/json-patch+json";

    private String outsider;
    private String clinicianToken;

    @BeforeEach
    void anOutsiderAndAClinicianWithoutACareRelationship() {
        outsider = create("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Prov" + Fakes.letters(8) + "\"}]}");
        ServiceClients.Credentials clinician = client("provenance-clinician", TestPolicy.CLINICIAN);
        clinicianToken = tokenFor(clinician.clientId(), clinician.clientSecret());
    }

    @Test
    void aProvenanceIsInTheCompartmentOfItsTargets() {
        String observation = create("Observation", observation(outsider));
        String provenance = create("Provenance", provenance("Observation/" + observation));
        AccessEnforcementTest.assertRefused(get(clinicianToken, "Provenance/" + provenance), "no-care-relationship");
        assertThat(compartment("Provenance", provenance)).isEqualTo("Patient/" + outsider);
        // about two patients at once, or about a record that does not exist here: refused
        String other = create("Patient", "{\"resourceType\":\"Patient\",\"active\":true}");
        String otherObservation = create("Observation", observation(other));
        assertThat(post("Provenance", provenance("Observation/" + observation, "Observation/" + otherObservation))
                .statusCode()).isEqualTo(400);
        assertThat(post("Provenance", provenance("Observation/" + UUID.randomUUID())).statusCode()).isEqualTo(400);
        assertThat(post("Provenance", provenance("http://elsewhere.example/fhir/Observation/1")).statusCode()).isEqualTo(400);
        // about shared records only: shared
        String organization = create("Organization", "{\"resourceType\":\"Organization\",\"active\":true}");
        assertThat(compartment("Provenance", create("Provenance", provenance("Organization/" + organization))))
                .isEqualTo("shared");
    }

    @Test
    void aPatientLinkedRecordMustNameAPatientUnlessItMayBeShared() {
        for (String body : new String[] {
                "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}",
                "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"display\":\"x\"}}",
                "{\"resourceType\":\"Goal\",\"lifecycleStatus\":\"active\",\"description\":{\"text\":\"walk\"}}",
                "{\"resourceType\":\"Coverage\",\"status\":\"active\",\"payor\":[{\"display\":\"x\"}]}"}) {
            String type = body.substring(17, body.indexOf('"', 17));
            HttpResponse<String> response = post(type, body);
            assertThat(response.statusCode()).as(body).isEqualTo(400);
        }
        String organization = create("Organization", "{\"resourceType\":\"Organization\",\"active\":true}");
        assertThat(post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Organization/" + organization + "\"}}").statusCode()).isEqualTo(400);
        // a device in stock is assigned to no patient: shared, as documented
        String device = create("Device", "{\"resourceType\":\"Device\",\"status\":\"active\"}");
        assertThat(compartment("Device", device)).isEqualTo("shared");
    }

    @Test
    void anUpdateOrPatchNeverMovesAPatientsRecordToShared() {
        String observation = create("Observation", observation(outsider));
        HttpResponse<String> removed = send(HttpRequest.newBuilder(uri("/fhir/Observation/" + observation))
                .header("Content-Type", JSON_PATCH)
                .method("PATCH", HttpRequest.BodyPublishers.ofString("[{\"op\":\"remove\",\"path\":\"/subject\"}]")));
        assertThat(removed.statusCode()).isIn(400, 422);
        assertThat(compartment("Observation", observation)).isEqualTo("Patient/" + outsider);
        String device = create("Device", "{\"resourceType\":\"Device\",\"patient\":{\"reference\":\"Patient/" + outsider + "\"}}");
        HttpResponse<String> unassigned = send(HttpRequest.newBuilder(uri("/fhir/Device/" + device))
                .header("Content-Type", "application/fhir+json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Device\",\"id\":\"" + device + "\"}")));
        assertThat(unassigned.statusCode()).isEqualTo(400);
        assertThat(compartment("Device", device)).isEqualTo("Patient/" + outsider);
    }

    // --- helpers

    private static String observation(String patient) {
        return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}}";
    }

    private static String provenance(String... targets) {
        StringBuilder json = new StringBuilder("{\"resourceType\":\"Provenance\",\"recorded\":\"2026-01-01T00:00:00Z\","
                + "\"agent\":[{\"who\":{\"display\":\"x\"}}],\"target\":[");
        for (int i = 0; i < targets.length; i++) {
            json.append(i == 0 ? "" : ",").append("{\"reference\":\"").append(targets[i]).append("\"}");
        }
        return json.append("]}").toString();
    }

    private String compartment(String type, String id) {
        return JdbcClient.create(dataSource)
                .sql("select compartment from phi.resource where resource_type = ? and resource_id = ?")
                .params(type, UUID.fromString(id)).query(String.class).single();
    }

    private String create(String type, String json) {
        HttpResponse<String> response = post(type, json);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(response.body()).getIdElement().getIdPart();
    }

    private HttpResponse<String> post(String type, String json) {
        return send(HttpRequest.newBuilder(uri("/fhir/" + type)).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    private HttpResponse<String> get(String token, String path) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/" + path)).header("Authorization", "Bearer " + token).GET());
    }
}
