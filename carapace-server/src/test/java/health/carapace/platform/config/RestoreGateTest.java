package health.carapace.platform.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import health.carapace.backup.BackupLoader;
import health.carapace.backup.BackupRefused;
import health.carapace.backup.DatabaseTarget;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.TestInstallation;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

/**
 * A restore and the nodes keep apart (ops review finding 5, ADR 0040), on a database of its own in
 * the test installation's PostgreSQL: while a restore holds its target, a node gets no PHI
 * connection (it can neither migrate nor serve, so nothing loaded is served before the shredding
 * ledger is applied); and a restore is refused while a node is connected to its target.
 */
class RestoreGateTest {

    private static final Set<String> SERVING_ROLES = Set.of(DevDatabase.PHI_ROLE);

    @Test
    void whileARestoreHoldsTheDatabaseNoNodeConnectsAndWhileANodeIsConnectedNoRestoreStarts() throws Exception {
        String url = scratchDatabase();
        DatabaseTarget target = new DatabaseTarget(url, DevDatabase.OWNER, "");
        DatabaseTarget.Pair targets = new DatabaseTarget.Pair(target, target);
        DatabaseProperties node = new DatabaseProperties(url, DevDatabase.PHI_ROLE, "", DevDatabase.OWNER, "", 2,
                Duration.ofSeconds(2));

        try (BackupLoader.Hold held = BackupLoader.hold(targets, SERVING_ROLES)) {
            // A node starting now: its migrations' connection is refused, so it does not start.
            assertThatThrownBy(() -> new DatabaseConfiguration().phiDataSource(node).close())
                    .hasStackTraceContaining("a restore is in progress on this database");
            // A node already running that opens a new connection (after a failover, say): refused too.
            try (Connection plain = DriverManager.getConnection(url, DevDatabase.PHI_ROLE, "")) {
                assertThatThrownBy(() -> plain.createStatement().execute(RestoreGate.CHECK))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("55P03"));
            }
            // A second restore of the same target.
            assertThatThrownBy(() -> BackupLoader.hold(targets, SERVING_ROLES)).isInstanceOf(BackupRefused.class)
                    .hasMessageContaining("another restore")
                    .satisfies(e -> assertThat(((BackupRefused) e).exitCode()).isEqualTo(BackupRefused.IN_USE));
        }
        awaitNoSessionsOf(url, DevDatabase.PHI_ROLE);

        // The restore is over: the node starts, and while its pool is connected no restore starts.
        try (HikariDataSource pool = new DatabaseConfiguration().phiDataSource(node)) {
            assertThat(JdbcClient.create(pool).sql("select 1").query(Integer.class).single()).isEqualTo(1);
            assertThatThrownBy(() -> BackupLoader.hold(targets, SERVING_ROLES)).isInstanceOf(BackupRefused.class)
                    .hasMessageContaining("a Carapace node is using it")
                    .satisfies(e -> assertThat(((BackupRefused) e).exitCode()).isEqualTo(BackupRefused.IN_USE));
        }
        awaitNoSessionsOf(url, DevDatabase.PHI_ROLE);
        // And the refused attempt left no hold behind: a restore may start now.
        BackupLoader.hold(targets, SERVING_ROLES).close();
    }

    @Test
    void theRestoresOwnApplicationIsNotKeptOut() throws Exception {
        String url = scratchDatabase();
        DatabaseTarget target = new DatabaseTarget(url, DevDatabase.OWNER, "");
        DatabaseProperties restoring = new DatabaseProperties(url, DevDatabase.PHI_ROLE, "", DevDatabase.OWNER, "", 2,
                Duration.ofSeconds(2));
        try (BackupLoader.Hold held = BackupLoader.hold(new DatabaseTarget.Pair(target, target), SERVING_ROLES)) {
            BackupLoader.whileFinishingRestore(() -> {
                try (HikariDataSource pool = new DatabaseConfiguration().phiDataSource(restoring)) {
                    assertThat(JdbcClient.create(pool).sql("select 1").query(Integer.class).single()).isEqualTo(1);
                }
                return null;
            });
            // Outside the restore's own finishing application, the same process is kept out again.
            assertThatThrownBy(() -> new DatabaseConfiguration().phiDataSource(restoring).close())
                    .hasStackTraceContaining("a restore is in progress on this database");
        }
    }

    /**
     * s7 review finding 1: a restore that dies after the PHI load and before the ledger is applied
     * (SIGKILL, a dropped SSH session, a reboot; its hold session and lock gone with it) leaves its
     * marker, so the gate stays shut; only finishing the restore opens it.
     */
    @Test
    void aRestoreThatDiedBeforeTheLedgerWasAppliedKeepsEveryNodeOutUntilItFinishes() throws Exception {
        String url = scratchDatabase();
        DatabaseTarget target = new DatabaseTarget(url, DevDatabase.OWNER, "");
        DatabaseTarget.Pair targets = new DatabaseTarget.Pair(target, target);
        DatabaseProperties node = new DatabaseProperties(url, DevDatabase.PHI_ROLE, "", DevDatabase.OWNER, "", 2,
                Duration.ofSeconds(2));
        // The restore took its hold, put its marker, loaded ... and died: the session (and lock) is gone.
        BackupLoader.hold(targets, SERVING_ROLES).close();
        BackupLoader.mark(target);
        assertThat(BackupLoader.unfinished(target)).isTrue();

        // A node starting now gets no connection (its migrations' is refused), nor does a running one reconnect.
        assertThatThrownBy(() -> new DatabaseConfiguration().phiDataSource(node).close())
                .hasStackTraceContaining("a restore of this database did not finish");
        try (Connection plain = DriverManager.getConnection(url, DevDatabase.PHI_ROLE, "")) {
            assertThatThrownBy(() -> plain.createStatement().execute(RestoreGate.CHECK))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("55P03"));
        }
        // The restore run again finishes (its application applies the ledger), then removes the marker.
        BackupLoader.finished(targets);
        assertThat(BackupLoader.unfinished(target)).isFalse();
        try (HikariDataSource pool = new DatabaseConfiguration().phiDataSource(node)) {
            assertThat(JdbcClient.create(pool).sql("select 1").query(Integer.class).single()).isEqualTo(1);
        }
    }

    /**
     * s7 review findings 7 and 8: the keyring in a database of its own is held and marked too (a node
     * starting during the restore must not migrate an empty keyring or make a KEK there), and a restore
     * that cannot tell which roles are the nodes' refuses rather than check nothing.
     */
    @Test
    void aKeyringDatabaseOfItsOwnIsHeldAndMarkedTooAndNoRolesToCheckIsRefused() throws Exception {
        DatabaseTarget phi = new DatabaseTarget(scratchDatabase(), DevDatabase.OWNER, "");
        String keyringUrl = scratchDatabase();
        DatabaseTarget keyring = new DatabaseTarget(keyringUrl, DevDatabase.OWNER, "");
        DatabaseTarget.Pair targets = new DatabaseTarget.Pair(phi, keyring);
        assertThat(targets.sameDatabase()).isFalse();
        assertThatThrownBy(() -> BackupLoader.hold(targets, Set.of())).isInstanceOf(BackupRefused.class)
                .hasMessageContaining("cannot tell whether a node is connected")
                .satisfies(e -> assertThat(((BackupRefused) e).exitCode()).isEqualTo(BackupRefused.UNUSABLE));

        try (BackupLoader.Hold held = BackupLoader.hold(targets, Set.of(DevDatabase.PHI_ROLE, DevDatabase.KEYRING_ROLE));
                Connection plain = DriverManager.getConnection(keyringUrl, DevDatabase.KEYRING_ROLE, "")) {
            assertThatThrownBy(() -> plain.createStatement().execute(RestoreGate.CHECK))
                    .isInstanceOf(SQLException.class).hasMessageContaining("a restore is in progress");
        }
        // Died after marking: the keyring database keeps nodes out on its own marker.
        BackupLoader.mark(keyring);
        try (Connection plain = DriverManager.getConnection(keyringUrl, DevDatabase.KEYRING_ROLE, "")) {
            assertThatThrownBy(() -> plain.createStatement().execute(RestoreGate.CHECK))
                    .isInstanceOf(SQLException.class).hasMessageContaining("did not finish");
        }
        BackupLoader.finished(targets);
        assertThat(BackupLoader.unfinished(keyring)).isFalse();
        try (Connection plain = DriverManager.getConnection(keyringUrl, DevDatabase.KEYRING_ROLE, "")) {
            plain.createStatement().execute(RestoreGate.CHECK);
        }
    }

    /** A new, empty database in the test installation's cluster; its JDBC URL. */
    private static String scratchDatabase() throws SQLException {
        String shared = TestInstallation.get().properties().get("carapace.db.url").toString();
        String name = "restore_gate_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection owner = DriverManager.getConnection(shared, DevDatabase.OWNER, "")) {
            owner.createStatement().execute("create database " + name);
        }
        int slash = shared.lastIndexOf('/');
        int query = shared.indexOf('?', slash);
        return shared.substring(0, slash + 1) + name + (query < 0 ? "" : shared.substring(query));
    }

    /** A closed connection's server process ends a moment after the client lets go. */
    private static void awaitNoSessionsOf(String url, String role) throws SQLException {
        try (Connection owner = DriverManager.getConnection(url, DevDatabase.OWNER, "")) {
            JdbcClient jdbc = JdbcClient.create(new SingleConnectionDataSource(owner, true));
            await().atMost(Duration.ofSeconds(10)).until(() -> jdbc.sql("select count(*) from pg_stat_activity "
                    + "where datname = current_database() and usename = ?").param(role).query(Long.class).single() == 0);
        }
    }
}
