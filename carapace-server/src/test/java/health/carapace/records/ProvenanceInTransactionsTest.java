package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.access.CareRelationships;
import health.carapace.audit.AuditContext;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A Provenance inside a transaction Bundle is in the compartment of its targets, even when the
 * transaction creates them (referenced by {@code urn:uuid}) and whatever the entries' order; one
 * about two patients is refused; one about a record the caller may not write is refused, and
 * nothing of the transaction is stored (issue 17, ADR 0035).
 */
class ProvenanceInTransactionsTest extends IntegrationTest {

    private static final String PATIENT_URN = "urn:uuid:3c9a1f0e-6b7d-4c21-9e55-0d4f2a8b7c61";
    private static final String OBSERVATION_URN = "urn:uuid:8e2b7d14-51af-4f0b-a3c6-97d1e5f2b403";

    @Autowired
    CareRelationships relationships;

    private final String family = "Provtx" + Fakes.letters(8);
    private String clinicianId;
    private String clinicianToken;

    @BeforeEach
    void aClinician() {
        ServiceClients.Credentials clinician = client("provenance-tx-clinician", TestPolicy.CLINICIAN);
        clinicianId = clinician.clientId();
        clinicianToken = tokenFor(clinician.clientId(), clinician.clientSecret());
    }

    @Test
    void aProvenanceIsPlacedInTheCompartmentOfTargetsTheTransactionCreatesAndAuditedAsAWrite() {
        // the Provenance comes first in the Bundle, before the Observation it is about
        HttpResponse<String> response = transaction(token(),
                provenanceEntry(OBSERVATION_URN),
                entry(PATIENT_URN, patient(family), "Patient"),
                entry(OBSERVATION_URN, observation(PATIENT_URN), "Observation"));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        Bundle result = fhir.newJsonParser().parseResource(Bundle.class, response.body());
        String provenance = idOf(result.getEntry().get(0).getResponse().getLocation());
        String patient = idOf(result.getEntry().get(1).getResponse().getLocation());
        assertThat(result.getEntry().get(0).getResponse().getStatus()).startsWith("201");
        assertThat(compartment("Provenance", provenance)).isEqualTo("Patient/" + patient);
        // decided as that patient's record: a clinician without a care relationship may not read it
        AccessEnforcementTest.assertRefused(get(clinicianToken, "Provenance/" + provenance), "no-care-relationship");
        relationships.assign(clinicianId, "Patient/" + patient, "test-admin", AuditContext.none());
        assertThat(get(clinicianToken, "Provenance/" + provenance).statusCode()).isEqualTo(200);
        // audited like any write: a created event naming the Provenance and its patient
        assertThat(auditEventsOf(response)).contains("created|/fhir/Provenance/" + provenance + "|Patient/" + patient);
    }

    @Test
    void aProvenanceWhoseTargetsAreInTwoCompartmentsIsRefusedNamingNoDataAndNothingIsStored() {
        String otherPatient = "urn:uuid:f1d2c3b4-a5e6-4f70-8091-a2b3c4d5e6f7";
        String otherObservation = "urn:uuid:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
        HttpResponse<String> response = transaction(token(),
                entry(PATIENT_URN, patient(family), "Patient"),
                entry(otherPatient, patient(family), "Patient"),
                entry(OBSERVATION_URN, observation(PATIENT_URN), "Observation"),
                entry(otherObservation, observation(otherPatient), "Observation"),
                provenanceEntry(OBSERVATION_URN, otherObservation));

        assertThat(response.statusCode()).isEqualTo(400);
        String diagnostics = Refusals.outcomeOf(response).getIssueFirstRep().getDiagnostics()
                .replaceAll(" \\(request id [^)]*\\)", "");
        assertThat(diagnostics).contains("one patient").doesNotContain(family).doesNotContain("urn:uuid")
                .doesNotContainPattern("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}");
        assertThat(count("Patient?family=" + family)).isZero();
    }

    @Test
    void aProvenanceAboutARecordTheCallerMayNotWriteIsRefusedAndNothingOfTheTransactionIsStored() {
        String outsider = created("Patient", patient(family + "o"));
        String outsidersObservation = created("Observation", observation("Patient/" + outsider));
        String own = created("Patient", patient(family));
        relationships.assign(clinicianId, "Patient/" + own, "test-admin", AuditContext.none());

        HttpResponse<String> response = transaction(clinicianToken,
                entry(OBSERVATION_URN, observation("Patient/" + own), "Observation"),
                provenanceEntry("Observation/" + outsidersObservation));

        AccessEnforcementTest.assertRefused(response, "no-care-relationship");
        assertThat(response.body()).doesNotContain(outsider).doesNotContain(outsidersObservation);
        assertThat(count("Observation?patient=" + own)).isZero();
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from phi.resource where resource_type = 'Provenance' "
                + "and compartment = ?").param("Patient/" + outsider).query(Integer.class).single()).isZero();
        assertThat(auditEventsOf(response)).contains("denied|/fhir/Provenance|Patient/" + outsider);
        // the same Provenance about the clinician's own patient's record goes through
        HttpResponse<String> allowed = transaction(clinicianToken,
                entry(OBSERVATION_URN, observation("Patient/" + own), "Observation"),
                provenanceEntry(OBSERVATION_URN));
        assertThat(allowed.statusCode()).as(allowed.body()).isEqualTo(200);
    }

    // --- helpers

    private static String patient(String family) {
        return "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}";
    }

    private static String observation(String subject) {
        return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"" + subject + "\"}}";
    }

    private static String entry(String fullUrl, String resource, String type) {
        return "{\"fullUrl\":\"" + fullUrl + "\",\"resource\":" + resource + ",\"request\":{\"method\":\"POST\",\"url\":\""
                + type + "\"}}";
    }

    private static String provenanceEntry(String... targets) {
        StringBuilder json = new StringBuilder("{\"resource\":{\"resourceType\":\"Provenance\","
                + "\"recorded\":\"2026-01-01T00:00:00Z\",\"agent\":[{\"who\":{\"display\":\"x\"}}],\"target\":[");
        for (int i = 0; i < targets.length; i++) {
            json.append(i == 0 ? "" : ",").append("{\"reference\":\"").append(targets[i]).append("\"}");
        }
        return json.append("]},\"request\":{\"method\":\"POST\",\"url\":\"Provenance\"}}").toString();
    }

    private HttpResponse<String> transaction(String token, String... entries) {
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + String.join(",", entries) + "]}";
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir")).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(bundle)));
    }

    private String created(String type, String json) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir/" + type))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(json)));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(response.body()).getIdElement().getIdPart();
    }

    private HttpResponse<String> get(String token, String path) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/" + path)).header("Authorization", "Bearer " + token).GET());
    }

    private int count(String search) {
        HttpResponse<String> response = get(token(), search);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return fhir.newJsonParser().parseResource(Bundle.class, response.body()).getTotal();
    }

    private String compartment(String type, String id) {
        return JdbcClient.create(dataSource)
                .sql("select compartment from phi.resource where resource_type = ? and resource_id = ?")
                .params(type, UUID.fromString(id)).query(String.class).single();
    }

    private static String idOf(String location) {
        return location.split("/")[1];
    }
}
