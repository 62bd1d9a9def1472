package health.carapace.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The transaction Bundles of {@code --seed-batch}: valid FHIR, each observation pointing at its patient's entry. */
class SeedInBatchesTest {

    @Test
    void aBatchIsATransactionOfPatientsEachFollowedByItsObservationsReferencingItsEntry() throws Exception {
        SyntheticData data = new SyntheticData(7);
        DatasetSeeder seeder = new DatasetSeeder(HttpClient.newHttpClient(),
                new FhirRequests(URI.create("https://localhost:1/fhir"), Duration.ofSeconds(1), () -> "Bearer x", data),
                data, 1, new PrintWriter(new StringWriter()));

        JsonNode bundle = new ObjectMapper().readTree(seeder.transaction(10, 13, 2));

        assertThat(bundle.path("resourceType").asText()).isEqualTo("Bundle");
        assertThat(bundle.path("type").asText()).isEqualTo("transaction");
        JsonNode entries = bundle.path("entry");
        assertThat(entries.size()).isEqualTo(9);
        for (int p = 0; p < 3; p++) {
            JsonNode patient = entries.get(p * 3);
            assertThat(patient.path("resource").path("resourceType").asText()).isEqualTo("Patient");
            assertThat(patient.path("request").path("method").asText()).isEqualTo("POST");
            assertThat(patient.path("fullUrl").asText()).startsWith("urn:uuid:");
            for (int o = 1; o <= 2; o++) {
                JsonNode observation = entries.get(p * 3 + o).path("resource");
                assertThat(observation.path("resourceType").asText()).isEqualTo("Observation");
                assertThat(observation.path("subject").path("reference").asText()).isEqualTo(patient.path("fullUrl").asText());
            }
        }
        assertThat(entries.get(0).path("fullUrl").asText()).isNotEqualTo(entries.get(3).path("fullUrl").asText());
    }

    @Test
    void thePatientsCreatedAreReadFromTheResponseInEntryOrder() {
        String response = "{\"resourceType\":\"Bundle\",\"type\":\"transaction-response\",\"entry\":["
                + "{\"response\":{\"status\":\"201 Created\",\"location\":\"Patient/p-1/_history/1\"}},"
                + "{\"response\":{\"status\":\"201 Created\",\"location\":\"Observation/o-1/_history/1\"}},"
                + "{\"response\":{\"status\":\"201 Created\",\"location\":\"Patient/p-2/_history/1\"}}]}";

        assertThat(DatasetSeeder.patientsCreated(response)).containsExactly("p-1", "p-2");
    }
}
