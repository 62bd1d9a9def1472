package health.carapace.audit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.testing.IntegrationTest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The sealer looks only at ids above those it accounted for and at the gaps below them (issue
 * 13: the look-back scan over 100,000 ids on every seal was most of PostgreSQL's CPU under load).
 * An event whose transaction took its id before others were sealed, and committed after, is
 * still sealed; a rolled-back one leaves a gap that is forgotten once its transaction has ended.
 */
class LateEventsAreSealedTest extends IntegrationTest {

    @Autowired
    private AuditTrail trail;

    @Autowired
    private TreeSealer sealer;

    @Autowired
    private PlatformTransactionManager transactionManager;

    @Test
    void anEventCommittedAfterHigherIdsWereSealedIsSealedAndARolledBackOneIsForgotten() throws Exception {
        sealer.sealOnce(); // this node has sealed last: from here on it looks at new ids and gaps only
        long before = JdbcClient.create(dataSource).sql("select coalesce(max(id), 0) from audit.event").query(Long.class).single();
        AuditEvent late = event();
        AuditEvent rolledBack = event();
        CountDownLatch inserted = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        Thread slow = holding(late, false, inserted, release);
        Thread aborted = holding(rolledBack, true, inserted, release);
        assertThat(inserted.await(30, TimeUnit.SECONDS)).isTrue();

        AuditEvent after = event();
        trail.record(List.of(after));
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            sealer.sealOnce();
            return sealed(after);
        });
        assertThat(sealed(late)).as("not committed yet").isFalse();

        release.countDown();
        slow.join();
        aborted.join();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            sealer.sealOnce();
            return sealed(late);
        });
        await("the rolled-back id is forgotten").atMost(Duration.ofSeconds(30)).until(() -> {
            sealer.sealOnce();
            return sealer.gapsKnown().stream().noneMatch(gap -> gap > before && gap < idOf(after));
        });
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from audit.event where event_id = ?")
                .param(rolledBack.id()).query(Long.class).single()).isZero();
    }

    private Thread holding(AuditEvent event, boolean rollBack, CountDownLatch inserted, CountDownLatch release) {
        TransactionTemplate transactions = new TransactionTemplate(transactionManager);
        Thread thread = new Thread(() -> transactions.executeWithoutResult(status -> {
            trail.recordInTransaction(List.of(event));
            inserted.countDown();
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (rollBack) {
                status.setRollbackOnly();
            }
        }));
        thread.start();
        return thread;
    }

    private boolean sealed(AuditEvent event) {
        return JdbcClient.create(dataSource).sql("select exists (select 1 from audit.leaf l join audit.event e "
                + "on e.id = l.event_id where e.event_id = ?)").param(event.id()).query(Boolean.class).single();
    }

    private long idOf(AuditEvent event) {
        return JdbcClient.create(dataSource).sql("select id from audit.event where event_id = ?").param(event.id())
                .query(Long.class).single();
    }

    private static AuditEvent event() {
        return new AuditEvent(UUID.randomUUID(), Instant.now(), "late-events-test", AuditAction.VIEWED,
                "/fhir/Patient/" + UUID.randomUUID(), AuditContext.none(), true, null, null, null, false, null);
    }
}
