package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.IdType;
import org.junit.jupiter.api.Test;

/**
 * A transaction Bundle of new patients, each followed by records about them (the seeding path,
 * issue 13 item 6), writes its entries' audit events in one insert at its end, its new patients'
 * keys in one keyring transaction, and takes each new patient's shredding lock once. What must
 * not change: every entry audited with its patient, durable in the Bundle's own transaction, and
 * a Bundle that fails in its last entry leaves no record and no audit event behind.
 */
class TransactionsWriteTogetherTest extends IntegrationTest {

    private final String family = "Together" + Fakes.letters(6);

    @Test
    void everyEntryIsAuditedWithItsPatientWhenTheBundleCommits() {
        HttpResponse<String> response = post(bundle(3, 2, null));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);

        Bundle answer = fhir.newJsonParser().parseResource(Bundle.class, response.body());
        List<String> expected = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            String patient = "Patient/" + new IdType(answer.getEntry().get(p * 3).getResponse().getLocation()).getIdPart();
            expected.add("created|" + locationOf(answer, p * 3) + "|" + patient);
            for (int o = 1; o <= 2; o++) {
                expected.add("created|" + locationOf(answer, p * 3 + o) + "|" + patient);
            }
        }
        assertThat(auditEventsOf(response)).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(patientsNamed()).isEqualTo(3);
    }

    @Test
    void aBundleThatFailsInItsLastEntryLeavesNoRecordAndNoAuditEvent() {
        // The last entry names a practitioner that does not exist: refused by the reference check
        // at the Bundle's end, after every other entry ran and their events were inserted.
        HttpResponse<String> response = post(bundle(3, 2, "Practitioner/" + UUID.randomUUID()));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);

        assertThat(auditEventsOf(response)).as("no event of a write that was rolled back").isEmpty();
        assertThat(patientsNamed()).isZero();
    }

    @Test
    void aBundleThatFailsInItsLastEntryBeforeItsEndLeavesNothingEither() {
        // The last entry's subject is a patient that does not exist: refused when that entry runs.
        String bundle = bundle(3, 2, null).replace("]}", ",{\"resource\":{\"resourceType\":\"Observation\",\"status\":"
                + "\"final\",\"code\":{\"text\":\"late\"},\"subject\":{\"reference\":\"Patient/" + UUID.randomUUID()
                + "\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}");
        HttpResponse<String> response = post(bundle);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);

        assertThat(auditEventsOf(response)).isEmpty();
        assertThat(patientsNamed()).isZero();
    }

    @Test
    void returnMinimalAnswersEachWriteWithItsLocationOnly() {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir"))
                .header("Content-Type", "application/fhir+json").header("Prefer", "return=minimal")
                .POST(HttpRequest.BodyPublishers.ofString(bundle(2, 1, null))));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);

        Bundle answer = fhir.newJsonParser().parseResource(Bundle.class, response.body());
        assertThat(answer.getEntry()).hasSize(4).allSatisfy(entry -> {
            assertThat(entry.hasResource()).isFalse();
            assertThat(entry.getResponse().getStatus()).startsWith("201");
            assertThat(entry.getResponse().getLocation()).matches("(Patient|Observation)/[0-9a-f-]{36}/_history/1");
        });
        assertThat(response.body()).doesNotContain(family);
        assertThat(patientsNamed()).isEqualTo(2);
    }

    /** Patients, each followed by its observations; the last observation names {@code performer} if given. */
    private String bundle(int patients, int observations, String performer) {
        StringBuilder json = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
        for (int p = 0; p < patients; p++) {
            String fullUrl = "urn:uuid:" + UUID.randomUUID();
            json.append(p == 0 ? "" : ",").append("{\"fullUrl\":\"").append(fullUrl).append("\",\"resource\":{")
                    .append("\"resourceType\":\"Patient\",\"name\":[{\"family\":\"").append(family).append("\"}]},")
                    .append("\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}");
            for (int o = 0; o < observations; o++) {
                boolean last = p == patients - 1 && o == observations - 1;
                json.append(",{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",")
                        .append("\"code\":{\"text\":\"o").append(o).append("\"},\"subject\":{\"reference\":\"")
                        .append(fullUrl).append("\"}");
                if (last && performer != null) {
                    json.append(",\"performer\":[{\"reference\":\"").append(performer).append("\"}]");
                }
                json.append("},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}");
            }
        }
        return json.append("]}").toString();
    }

    private HttpResponse<String> post(String bundle) {
        return send(HttpRequest.newBuilder(uri("/fhir")).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(bundle)));
    }

    private static String locationOf(Bundle answer, int entry) {
        IdType location = new IdType(answer.getEntry().get(entry).getResponse().getLocation());
        return "/fhir/" + location.getResourceType() + "/" + location.getIdPart();
    }

    private int patientsNamed() {
        HttpResponse<String> found = send(HttpRequest.newBuilder(uri("/fhir/Patient?family=" + family)).GET());
        assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
        return fhir.newJsonParser().parseResource(Bundle.class, found.body()).getEntry().size();
    }
}
