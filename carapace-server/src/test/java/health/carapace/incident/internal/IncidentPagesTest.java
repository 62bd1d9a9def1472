package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.incident.Incident;
import health.carapace.incident.IncidentState;
import health.carapace.incident.Incidents;
import health.carapace.incident.Severity;
import health.carapace.testing.IntegrationTest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Incidents are listed a page at a time (the console's list and dashboard): the pages, newest
 * first, hold every matching incident exactly once even when several share a detection time (ties
 * go by id), and the counts match; the dashboard's open incidents (counted per state up to a cap, the
 * newest listed) include them. The incidents are opened inside a transaction that is rolled
 * back, so no other test sees them (nor their alerts).
 */
class IncidentPagesTest extends IntegrationTest {

    @Autowired
    IncidentStore store;

    @Autowired
    PlatformTransactionManager transactionManager;

    @Test
    void pagesHoldEveryIncidentOnceNewestFirstTiesByIdAndTheCountMatches() {
        TransactionTemplate transaction = new TransactionTemplate(transactionManager);
        transaction.executeWithoutResult(status -> {
            String detector = "paging-" + UUID.randomUUID().toString().substring(0, 8);
            List<Detection> detections = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                // one record() call: all seven are detected at the same instant (the store's clock)
                detections.add(new Detection(detector, Severity.LOW, "pager-" + i, null, null, null, -1,
                        Instant.now().minusSeconds(i), null));
            }
            long openBefore = store.count(new Incidents.Filter(IncidentState.OPEN, null, null, null, null, null, 1));
            store.record(detections);
            Incidents.Filter filter = new Incidents.Filter(null, null, detector, null, null, null, 3);

            List<Incident> seen = new ArrayList<>();
            Incidents.Position after = null;
            List<Integer> sizes = new ArrayList<>();
            do {
                List<Incident> page = store.page(filter, after);
                sizes.add(page.size());
                seen.addAll(page);
                after = page.size() < 3 ? null
                        : new Incidents.Position(page.get(page.size() - 1).detectedAt(), page.get(page.size() - 1).id());
            } while (after != null);

            assertThat(sizes).containsExactly(3, 3, 1);
            assertThat(seen).extracting(Incident::id).doesNotHaveDuplicates().hasSize(7);
            assertThat(seen).extracting(Incident::id)
                    .containsExactlyElementsOf(store.list(new Incidents.Filter(null, null, detector, null, null, null, 100))
                            .stream().map(Incident::id).toList());
            assertThat(store.count(filter)).isEqualTo(7);
            // the dashboard's card: the seven are the newest open incidents (detected now), in the list's order
            assertThat(store.open(3, 1_000_000).newest()).extracting(Incident::id)
                    .containsExactlyElementsOf(seen.subList(0, 3).stream().map(Incident::id).toList());
            assertThat(store.open(3, 1_000_000).countedUpTo()).as("every open state, and only those")
                    .containsOnlyKeys(IncidentState.OPEN, IncidentState.ACKNOWLEDGED, IncidentState.CONTAINED);
            assertThat(store.open(3, 1_000_000).countedUpTo().get(IncidentState.OPEN)).isEqualTo(openBefore + 7);
            assertThat(store.open(3, openBefore + 3).countedUpTo().get(IncidentState.OPEN)).as("counted up to the cap")
                    .isEqualTo(openBefore + 3);
            assertThat(store.open(3, 1_000_000).countedUpTo().get(IncidentState.ACKNOWLEDGED))
                    .isEqualTo(store.count(new Incidents.Filter(IncidentState.ACKNOWLEDGED, null, null, null, null, null, 1)));
            assertThat(store.count(new Incidents.Filter(IncidentState.CLOSED, null, detector, null, null, null, 1))).isZero();
            // state and severity are written into the statement as constants (V39's plans): still exact filters
            assertThat(store.count(new Incidents.Filter(IncidentState.OPEN, Severity.LOW, detector, null, null, null, 1)))
                    .isEqualTo(7);
            assertThat(store.page(new Incidents.Filter(IncidentState.OPEN, Severity.LOW, detector, null, null, null, 10), null))
                    .extracting(Incident::id).containsExactlyElementsOf(seen.stream().map(Incident::id).toList());
            assertThat(store.page(new Incidents.Filter(IncidentState.OPEN, Severity.HIGH, detector, null, null, null, 10), null))
                    .isEmpty();
            assertThat(store.page(new Incidents.Filter(IncidentState.ACKNOWLEDGED, null, detector, null, null, null, 10), null))
                    .isEmpty();
            status.setRollbackOnly();
        });
    }
}
