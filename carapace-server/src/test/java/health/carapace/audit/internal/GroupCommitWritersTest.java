package health.carapace.audit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditUnavailableException;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.AdvisoryLockWaits;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The group commit's writers overlap (issue 13, read p99): while one writer's transaction has not
 * committed, events handed in meanwhile are committed by the other writer, and each request is
 * still released only once its own events are committed. A writer is held inside its insert by a
 * trigger (this test's, only for this test's slow actor) that waits for an advisory lock the test
 * holds: the stand-in for a commit still waiting for its WAL flush.
 */
class GroupCommitWritersTest extends IntegrationTest {

    private static final String SLOW = "group-commit-test-slow";
    private static final String FAST = "group-commit-test-fast";
    private static final long LOCK = 7_413_001L;

    @Autowired
    private PlatformTransactionManager transactionManager;

    @BeforeEach
    void installTrigger() throws SQLException {
        try (Connection owner = owner(); Statement s = owner.createStatement()) {
            s.execute("""
                    create or replace function audit.test_slow_writer() returns trigger language plpgsql as $$
                    begin
                        if new.actor = 'SLOW' then
                            perform pg_advisory_xact_lock(LOCK);
                        end if;
                        return new;
                    end $$""".replace("SLOW", SLOW).replace("LOCK", Long.toString(LOCK)));
            s.execute("create trigger test_slow_writer before insert on audit.event "
                    + "for each row execute function audit.test_slow_writer()");
        }
    }

    @AfterEach
    void dropTrigger() throws SQLException {
        try (Connection owner = owner(); Statement s = owner.createStatement()) {
            s.execute("drop trigger if exists test_slow_writer on audit.event");
            s.execute("drop function if exists audit.test_slow_writer()");
        }
    }

    @Test
    void aSecondWriterCommitsWhileTheFirstHasNotAndEachRequestWaitsForItsOwnCommit() throws Exception {
        try (GroupCommitAppender appender = appender(2, Duration.ofSeconds(20)); Connection holder = dataSource.getConnection()) {
            lock(holder);
            AuditEvent slow = event(SLOW);
            CompletableFuture<Void> slowAppend = CompletableFuture.runAsync(() -> appender.append(List.of(slow)));
            AdvisoryLockWaits.awaitBlockedBy(dataSource, holder); // one writer is inside its insert

            AuditEvent fast = event(FAST);
            appender.append(List.of(fast)); // returns only once committed, by the other writer
            assertThat(stored(fast)).isEqualTo(1);
            assertThat(slowAppend).as("its transaction has not committed").isNotDone();
            assertThat(stored(slow)).isZero();

            unlock(holder);
            slowAppend.get(30, TimeUnit.SECONDS);
            assertThat(stored(slow)).isEqualTo(1);
        }
    }

    /** What the test above tells apart: with one writer, the second request waits behind the first's commit. */
    @Test
    void withOneWriterTheSecondRequestWaitsForTheFirstsCommit() throws Exception {
        try (GroupCommitAppender appender = appender(1, Duration.ofSeconds(2)); Connection holder = dataSource.getConnection()) {
            lock(holder);
            AuditEvent slow = event(SLOW);
            CompletableFuture<Void> slowAppend = CompletableFuture.runAsync(() -> appender.append(List.of(slow)));
            AdvisoryLockWaits.awaitBlockedBy(dataSource, holder);

            AuditEvent fast = event(FAST);
            assertThatThrownBy(() -> appender.append(List.of(fast))).isInstanceOf(AuditUnavailableException.class)
                    .hasMessageContaining("did not commit an event in time");

            // the first request timed out too, waiting for the same commit; both are written once it is released
            assertThat(slowAppend).isCompletedExceptionally();
            unlock(holder);
            await().atMost(Duration.ofSeconds(30)).until(() -> stored(slow) == 1 && stored(fast) == 1);
        }
    }

    @Test
    void aWriterCountBelowOneIsRefused() {
        assertThatThrownBy(() -> appender(0, Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("commit-writers");
    }

    private GroupCommitAppender appender(int writers, Duration timeout) {
        return new GroupCommitAppender(new AuditLog(dataSource), new TransactionTemplate(transactionManager), 512,
                timeout, writers);
    }

    private static void lock(Connection holder) throws SQLException {
        try (Statement s = holder.createStatement()) {
            s.execute("select pg_advisory_lock(" + LOCK + ")");
        }
    }

    private static void unlock(Connection holder) throws SQLException {
        try (Statement s = holder.createStatement()) {
            s.execute("select pg_advisory_unlock(" + LOCK + ")");
        }
    }

    private long stored(AuditEvent event) {
        return JdbcClient.create(dataSource).sql("select count(*) from audit.event where event_id = ?")
                .param(event.id()).query(Long.class).single();
    }

    private static Connection owner() throws SQLException {
        return DriverManager.getConnection(TestInstallation.get().properties().get("carapace.db.url").toString(),
                DevDatabase.OWNER, "");
    }

    private static AuditEvent event(String actor) {
        return new AuditEvent(UUID.randomUUID(), Instant.now(), actor, AuditAction.VIEWED,
                "/fhir/Patient/" + UUID.randomUUID(), AuditContext.none(), true, null, null, null, false, null);
    }
}
