package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.backup.BackupLoader;
import health.carapace.backup.DatabaseTarget;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.TestInstallation;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * s7 review finding 7: a node starting while a restore works on the keyring's database gets no
 * keyring connection, so it neither migrates an empty keyring nor makes a KEK there (which would
 * make the restore's load fail); once the restore finished it starts as usual.
 */
class KeyringRestoreGateTest {

    @Test
    void aNodeStartingDuringARestoreGetsNoKeyringConnection() throws Exception {
        String url = scratchDatabase();
        DatabaseTarget target = new DatabaseTarget(url, DevDatabase.OWNER, "");
        KeyringProperties node = new KeyringProperties(url, DevDatabase.KEYRING_ROLE, "", DevDatabase.OWNER, "", 10,
                Duration.ofMinutes(1), Duration.ofHours(1));
        try (BackupLoader.Hold held = BackupLoader.hold(new DatabaseTarget.Pair(target, target),
                Set.of(DevDatabase.KEYRING_ROLE))) {
            assertThatThrownBy(() -> new KeyringStore(node, Duration.ofSeconds(2)).destroy())
                    .hasStackTraceContaining("a restore is in progress on this database");
        }
        assertThat(BackupLoader.schemasHoldingTables(target)).as("nothing migrated meanwhile").isEmpty();
        KeyringStore store = new KeyringStore(node, Duration.ofSeconds(2));
        try {
            assertThat(store.currentUser()).isEqualTo(DevDatabase.KEYRING_ROLE);
        } finally {
            store.destroy();
        }
    }

    private static String scratchDatabase() throws Exception {
        String shared = TestInstallation.get().properties().get("carapace.keyring.url").toString();
        String name = "keyring_gate_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection owner = DriverManager.getConnection(shared, DevDatabase.OWNER, "")) {
            owner.createStatement().execute("create database " + name);
        }
        int slash = shared.lastIndexOf('/');
        int query = shared.indexOf('?', slash);
        return shared.substring(0, slash + 1) + name + (query < 0 ? "" : shared.substring(query));
    }
}
