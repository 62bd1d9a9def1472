package health.carapace.backup;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.CarapaceApplication;
import health.carapace.cli.Launcher;
import health.carapace.cli.ServerHandle;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.signin.ServiceClients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.springframework.util.FileSystemUtils;

/**
 * The keyring in a database of its own (as production may configure it): the backup takes the PHI
 * database's snapshot first and the keyring's after it, with key jobs held off in between
 * ({@code phi-then-keyring}), and the restore puts each file back into its own database.
 */
class SeparateKeyringBackupTest {

    private static final Launcher.Application APP = CarapaceApplication::run;

    @TempDir
    Path root;

    @Test
    void aKeyringInItsOwnDatabaseIsBackedUpAfterThePhiSnapshotAndRestoredIntoItsOwnDatabase() throws Exception {
        Path keys = Files.createDirectories(root.resolve("backup-keys"));
        assertThat(BackupRestoreTest.cli("backup", "keys", "--out-dir=" + keys).code()).isZero();
        Path source = root.resolve("source");
        Path backup = root.resolve("backup");
        Path signingKey = root.resolve("signing-key.pem");
        String signingKeyId;
        String clientId;
        String secret;
        String patient;
        try (DevEnvironment database = DevEnvironment.open(source)) {
            String keyringUrl = separateKeyringDatabase(database);
            try (ServerHandle server = Launcher.dev(source, APP, "--server.port=0", "--carapace.keyring.url=" + keyringUrl)) {
                ServiceClients.Credentials client = server.context().getBean(ServiceClients.class)
                        .create("separate-keyring", Set.of("records-service"));
                clientId = client.clientId();
                secret = client.clientSecret();
                String token = BackupRestoreTest.token(server, source, clientId, secret);
                patient = BackupRestoreTest.create(server, source, token, "Patient",
                        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Apartkeyring\"}]}");
                BackupRestoreTest.Cli made = BackupRestoreTest.cli("backup", "--out=" + backup,
                        "--public-key=" + keys.resolve("backup-public-key.json"), "--data-dir=" + source,
                        "--carapace.keyring.url=" + keyringUrl);
                assertThat(made.code()).as(made.err()).isZero();
                assertThat(made.out()).contains("phi-then-keyring");
                BackupRestoreTest.Cli exported = BackupRestoreTest.cli("backup", "signing-key", "--out=" + signingKey,
                        "--data-dir=" + source, "--carapace.keyring.url=" + keyringUrl);
                assertThat(exported.code()).as(exported.err()).isZero();
                java.util.regex.Matcher id = java.util.regex.Pattern.compile("key id:\\s+([0-9a-f]{64})")
                        .matcher(exported.out());
                assertThat(id.find()).as(exported.out()).isTrue();
                signingKeyId = id.group(1);
                assertThat(made.err()).contains("keyring at");
            }
        }
        Path restored = root.resolve("restored");
        FileSystemUtils.copyRecursively(source.resolve("keys"), restored.resolve("keys"));
        FileSystemUtils.deleteRecursively(source);
        try (DevEnvironment database = DevEnvironment.open(restored)) {
            String keyringUrl = separateKeyringDatabase(database);
            // s7 review finding 9: the source kept no ledger, so its keyring holds no ledger key. A restore
            // host configured with a ledger must not make one in the finishing application (that hid this
            // clear refusal and split the installation's keys); it refuses and leaves nothing loaded.
            Path emptyLedger = Files.createFile(root.resolve("empty-ledger.jsonl"));
            BackupRestoreTest.Cli noKey = BackupRestoreTest.cli("restore", "--from=" + backup,
                    "--private-key=" + keys.resolve("backup-private-key.json"),
                    "--signing-key=" + signingKey, "--signing-key-id=" + signingKeyId,
                    "--shredding-ledger=" + emptyLedger, "--carapace.backup.shredding-ledger=" + emptyLedger,
                    "--no-ledger-head",
                    "--data-dir=" + restored, "--carapace.keyring.url=" + keyringUrl);
            assertThat(noKey.code()).as(noKey.err()).isEqualTo(BackupRefused.REFUSED);
            assertThat(noKey.err()).contains("the restored keyring holds no shredding ledger key")
                    .contains("removing what it loaded");
            BackupRestoreTest.Cli restore = BackupRestoreTest.cli("restore", "--from=" + backup,
                    "--private-key=" + keys.resolve("backup-private-key.json"),
                    "--signing-key=" + signingKey, "--signing-key-id=" + signingKeyId, "--without-shredding-ledger",
                    "--data-dir=" + restored, "--carapace.keyring.url=" + keyringUrl);
            assertThat(restore.code()).as(restore.err()).isZero();
            try (Connection phi = DriverManager.getConnection(database.properties().get("carapace.db.url").toString(),
                    DevDatabase.OWNER, "")) {
                assertThat(JdbcClient.create(new SingleConnectionDataSource(phi, true))
                        .sql("select count(*) from pg_namespace where nspname = 'keyring'").query(Long.class).single())
                        .as("the keyring went back into its own database, not the PHI database").isZero();
            }
            try (ServerHandle server = Launcher.dev(restored, APP, "--server.port=0", "--carapace.keyring.url=" + keyringUrl)) {
                String token = BackupRestoreTest.token(server, restored, clientId, secret);
                var read = BackupRestoreTest.read(server, restored, token, patient);
                assertThat(read.statusCode()).isEqualTo(200);
                assertThat(read.body()).contains("Apartkeyring");
            }
        }
    }

    /** Creates database {@code keyring} in the installation's cluster; returns its JDBC URL. */
    private static String separateKeyringDatabase(DevEnvironment database) throws Exception {
        String phiUrl = database.properties().get("carapace.db.url").toString();
        try (Connection owner = DriverManager.getConnection(phiUrl, DevDatabase.OWNER, "")) {
            owner.createStatement().execute("create database keyring");
        }
        return phiUrl.substring(0, phiUrl.lastIndexOf('/') + 1) + "keyring";
    }
}
