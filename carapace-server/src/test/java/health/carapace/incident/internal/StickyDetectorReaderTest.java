package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditFeed;
import health.carapace.audit.AuditQueries;
import health.carapace.audit.AuditTrail;
import health.carapace.testing.IntegrationTest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Review H2: two nodes' detector runners on one database, asked to run in turn, must not split
 * the batches between them (that splits the in-memory windows and multiplies every threshold):
 * the first to take the reader lock keeps it, the other reads nothing until the first stops.
 */
class StickyDetectorReaderTest extends IntegrationTest {

    @Autowired
    PlatformTransactionManager transactionManager;

    @Autowired
    AuditTrail audit;

    @Autowired
    IncidentSettings settings;

    /** A trail that serves one event per read, so that every event is a batch of its own. */
    private static final class OneAtATime implements AuditFeed {
        final List<AuditFeed.SealedEvent> events = new CopyOnWriteArrayList<>();

        @Override
        public List<SealedEvent> after(long afterLeaf, int limit) {
            return events.stream().filter(e -> e.leafIndex() > afterLeaf).limit(1).toList();
        }

        @Override
        public long lastSealedLeaf() {
            return events.size() - 1;
        }
    }

    private DetectorRunner runner(OneAtATime feed, long lockKey, String reader, List<Detection> detected,
            IncidentStore store) {
        Detector credentials = new CredentialAttackDetector(settings);
        Detector recording = new Detector() {
            @Override
            public String code() {
                return credentials.code();
            }

            @Override
            public void inspect(AuditFeed.SealedEvent event, List<Detection> found) {
                List<Detection> mine = new ArrayList<>();
                credentials.inspect(event, mine);
                detected.addAll(mine);
                found.addAll(mine);
            }
        };
        return new DetectorRunner(dataSource, new TransactionTemplate(transactionManager), feed, List.of(recording),
                store, () -> { }, opened -> { }, settings, lockKey, reader);
    }

    @Test
    void oneNodeReadsWhileItLivesAndACredentialAttackIsDetectedOnce() {
        String account = "sticky-" + UUID.randomUUID().toString().substring(0, 8);
        OneAtATime feed = new OneAtATime();
        Instant start = Instant.now();
        int attempts = settings.credentialCount();
        for (int i = 0; i < attempts; i++) {
            feed.events.add(new AuditFeed.SealedEvent(i, new AuditQueries.StoredEvent(UUID.randomUUID(),
                    start.plusMillis(i), account, "login_failed", "/login", new AuditContext(null, null, null), false,
                    null, null, null, false, null)));
        }
        long lockKey = UUID.randomUUID().getMostSignificantBits();
        String reader = "test-" + UUID.randomUUID();
        IncidentStore store = new IncidentStore(dataSource, new TransactionTemplate(transactionManager), audit,
                Clock.systemUTC(), Duration.ofHours(1));
        List<Detection> detected = new CopyOnWriteArrayList<>();
        DetectorRunner a = runner(feed, lockKey, reader, detected, store);
        DetectorRunner b = runner(feed, lockKey, reader, detected, store);
        int readByA = 0;
        int readByB = 0;
        try {
            for (int turn = 0; turn < attempts; turn++) {
                readByA += a.runOnce();
                readByB += b.runOnce();
            }
            assertThat(List.of(readByA, readByB)).as("events read by A and by B").containsExactlyInAnyOrder(attempts, 0);
            assertThat(detected).as("one detection of %d failures", attempts).hasSize(1);

            DetectorRunner reading = readByA > 0 ? a : b;
            DetectorRunner waiting = readByA > 0 ? b : a;
            feed.events.add(new AuditFeed.SealedEvent(attempts, new AuditQueries.StoredEvent(UUID.randomUUID(),
                    start.plusMillis(attempts), "someone-else", "login_failed", "/login",
                    new AuditContext(null, null, null), false, null, null, null, false, null)));
            reading.stop();
            assertThat(waiting.runOnce()).as("the other node takes over when the reader stops").isEqualTo(1);
        } finally {
            a.stop();
            b.stop();
        }
    }
}
