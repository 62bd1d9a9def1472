package health.carapace.records.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A search that filters decrypted candidates hands those resources to the page rendered in its own
 * request instead of loading and decrypting them again (issue 13) — once only, and never to a page
 * rendered after the results were kept for paging: those load the current rows afresh, narrowed
 * to the scope again. The resource used here exists only in memory, so a page that went to the
 * database finds nothing.
 */
class SearchesDecryptEachMatchOnceTest extends IntegrationTest {

    @Autowired
    private RecordStore store;

    @Autowired
    private DataSource dataSource;

    @Test
    void theFirstPageUsesTheSearchsDecryptionOnce() {
        SearchResults.Listed results = listed(notInTheDatabase());

        assertThat(results.getResources(0, 20)).hasSize(1);
        assertThat(results.getResources(0, 20)).as("given out once; then loaded afresh").isEmpty();
    }

    @Test
    void resultsKeptForPagingForgetWhatTheSearchDecrypted() {
        SearchResults.Listed results = listed(notInTheDatabase());

        results.forgetDecrypted();

        assertThat(results.size()).isEqualTo(1);
        assertThat(results.getResources(0, 20)).isEmpty();
    }

    @Test
    void aPageBeyondTheMatchesIsEmptyAndDropsTheDecryption() {
        SearchResults.Listed results = listed(notInTheDatabase());

        assertThat(results.getResources(5, 10)).isEmpty();
        assertThat(results.getResources(0, 1)).isEmpty();
    }

    private SearchResults.Listed listed(Resource match) {
        return new SearchResults.Listed("Patient", store, List.of(match), null, JdbcClient.create(dataSource),
                "r.resource_type = ?", List.of("Patient"));
    }

    private static Patient notInTheDatabase() {
        Patient patient = new Patient();
        patient.setId("Patient/" + UUID.randomUUID());
        return patient;
    }
}
