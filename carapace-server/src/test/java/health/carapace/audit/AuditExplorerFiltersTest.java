package health.carapace.audit;

import static org.assertj.core.api.Assertions.assertThat;

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
 * The explorer's action and outcome filters: the outcome is written into the statement as a constant
 * (so a generic plan can use V40's partial index of failures) and one action is ordered by the action
 * first (V40's event_action order); both select and order exactly as before, and an action that is not
 * one of the trail's (even one that looks like SQL) is bound and matches nothing. The events are recorded in a transaction
 * that is rolled back, so no other test sees them.
 */
class AuditExplorerFiltersTest extends IntegrationTest {

    @Autowired
    AuditTrail trail;

    @Autowired
    AuditQueries queries;

    @Autowired
    PlatformTransactionManager transactionManager;

    @Test
    void actionAndOutcomeFilterExactlyAndAnUnknownActionMatchesNothing() {
        new TransactionTemplate(transactionManager).executeWithoutResult(status -> {
            String actor = "filters-" + UUID.randomUUID().toString().substring(0, 8);
            Instant now = Instant.now();
            AuditAction[] actions = {AuditAction.VIEWED, AuditAction.DENIED, AuditAction.CREATED};
            List<AuditEvent> events = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                AuditAction action = actions[i % 3];
                events.add(new AuditEvent(UUID.randomUUID(), now.minusSeconds(i), actor, action, "/fhir/Patient/" + i,
                        AuditContext.none(), i % 4 != 0, null, null, null, false, null));
            }
            trail.recordInTransaction(events);

            assertThat(page(actor, List.of("denied"), null)).hasSize(4).allMatch(e -> e.action().equals("denied"));
            assertThat(page(actor, List.of("denied", "created"), null)).hasSize(8)
                    .allMatch(e -> e.action().equals("denied") || e.action().equals("created"));
            assertThat(page(actor, null, false)).hasSize(3).noneMatch(AuditQueries.StoredEvent::success);
            assertThat(page(actor, null, true)).hasSize(9).allMatch(AuditQueries.StoredEvent::success);
            // i = 0, 4 and 8 failed: 0 viewed, 4 denied, 8 created
            assertThat(page(actor, List.of("denied"), false)).hasSize(1);
            // newest first, whatever the filter
            assertThat(page(actor, List.of("viewed"), null)).extracting(AuditQueries.StoredEvent::timestamp)
                    .isSortedAccordingTo(java.util.Comparator.reverseOrder());
            assertThat(page(actor, List.of("no-such-action' or 'a' = 'a"), null)).isEmpty();
            assertThat(page(actor, List.of("denied", "Denied"), null)).hasSize(4);
            // one action is ordered "action desc, recorded_at desc, id desc" (event_action's own order):
            // the same newest-first pages, each event once, continued by position
            List<java.util.UUID> paged = new ArrayList<>();
            String after = null;
            do {
                AuditQueries.Page page = queries.page(new AuditQueries.Criteria(null, null, now.minusSeconds(60),
                        now.plusSeconds(1), List.of("denied"), null, 2), after);
                page.events().stream().filter(e -> e.user().equals(actor)).map(AuditQueries.StoredEvent::id)
                        .forEach(paged::add);
                after = page.next();
            } while (after != null);
            assertThat(paged).containsExactlyElementsOf(page(actor, List.of("denied"), null).stream()
                    .map(AuditQueries.StoredEvent::id).toList()).hasSize(4);
                        status.setRollbackOnly();
        });
    }

    private List<AuditQueries.StoredEvent> page(String actor, List<String> actions, Boolean success) {
        return queries.page(new AuditQueries.Criteria(null, actor, null, null, actions, success, 100), null).events();
    }
}
