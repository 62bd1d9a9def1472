package health.carapace.backup;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.CarapaceApplication;
import health.carapace.cli.Launcher;
import health.carapace.cli.ServerHandle;
import health.carapace.signin.ServiceClients;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.util.FileSystemUtils;

/**
 * The restore drill as a measurement (does not gate the build): a start-dev installation with
 * {@code carapace.drill.patients} patients (default 2000), each with an Observation, is backed up
 * while it serves, then restored on a fresh data directory, then started; prints the time of each
 * step and the time to the first record served. Run it with the command in docs/RELIABILITY.md
 * ("Restore drill") and read the lines starting "MEASURED".
 */
@Tag("measurement")
class BackupDrillMeasurement {

    private static final Launcher.Application APP = CarapaceApplication::run;

    @Test
    void backupRestoreAndTimeToServing() throws Exception {
        int patients = Integer.getInteger("carapace.drill.patients", 2000);
        Path root = Files.createTempDirectory("carapace-drill-");
        try {
            Path keys = Files.createDirectories(root.resolve("backup-keys"));
            assertThat(BackupRestoreTest.cli("backup", "keys", "--out-dir=" + keys).code()).isZero();
            Path source = root.resolve("source");
            Path backup = root.resolve("backup");
            Path ledger = root.resolve("ledger.jsonl");
            Path signingKey = root.resolve("signing-key.pem");
            String clientId;
            String secret;
            String firstPatient;
            long backupMillis;
            try (ServerHandle server = Launcher.dev(source, APP, "--server.port=0",
                    "--carapace.backup.shredding-ledger=" + ledger)) {
                ServiceClients.Credentials client = server.context().getBean(ServiceClients.class)
                        .create("drill", Set.of("records-service"));
                clientId = client.clientId();
                secret = client.clientSecret();
                String token = BackupRestoreTest.token(server, source, clientId, secret);
                long loadStart = System.nanoTime();
                ExecutorService writers = Executors.newFixedThreadPool(4);
                List<Future<String>> created = new ArrayList<>();
                for (int i = 0; i < patients; i++) {
                    int n = i;
                    created.add(writers.submit(() -> {
                        String id = BackupRestoreTest.create(server, source, token, "Patient",
                                "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Drillperson" + n + "\"}],"
                                        + "\"birthDate\":\"1980-01-01\"}");
                        BackupRestoreTest.create(server, source, token, "Observation", "{\"resourceType\":\"Observation\","
                                + "\"status\":\"final\",\"code\":{\"text\":\"drill " + n + "\"},\"valueQuantity\":{\"value\":"
                                + n + "},\"subject\":{\"reference\":\"Patient/" + id + "\"}}");
                        return id;
                    }));
                }
                firstPatient = created.get(0).get();
                for (Future<String> f : created) {
                    f.get();
                }
                writers.shutdown();
                System.out.printf("MEASURED drill data set: %d patients, %d resources written in %d s%n", patients,
                        patients * 2, (System.nanoTime() - loadStart) / 1_000_000_000);
                long start = System.nanoTime();
                BackupRestoreTest.Cli made = BackupRestoreTest.cli("backup", "--out=" + backup,
                        "--public-key=" + keys.resolve("backup-public-key.json"), "--data-dir=" + source);
                backupMillis = (System.nanoTime() - start) / 1_000_000;
                assertThat(made.code()).as(made.err()).isZero();
                // as the operator does once: the signing key restore trusts, kept apart from the backups
                assertThat(BackupRestoreTest.cli("backup", "signing-key", "--out=" + signingKey, "--data-dir=" + source)
                        .code()).isZero();
                System.out.printf("MEASURED backup: %d ms%n", backupMillis);
            }
            long bytes;
            try (Stream<Path> files = Files.list(backup)) {
                bytes = files.mapToLong(f -> f.toFile().length()).sum();
            }
            Path restored = root.resolve("restored");
            FileSystemUtils.copyRecursively(source.resolve("keys"), restored.resolve("keys"));
            long start = System.nanoTime();
            BackupRestoreTest.Cli restore = BackupRestoreTest.cli("restore", "--from=" + backup,
                    "--private-key=" + keys.resolve("backup-private-key.json"),
                    "--signing-key=" + signingKey, "--shredding-ledger=" + ledger,
                    // the drill shreds nobody, so no ledger head exists to record (backup says "none recorded")
                    "--no-ledger-head",
                    "--signing-key-id=" + BackupArchive.signingKeyId(BackupArchive.readSigningKey(
                            Files.readString(signingKey))),
                    "--data-dir=" + restored);
            long restoreMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(restore.code()).as(restore.err()).isZero();
            System.out.printf("MEASURED restore: %d ms%n", restoreMillis);
            start = System.nanoTime();
            long servingMillis;
            try (ServerHandle server = Launcher.dev(restored, APP, "--server.port=0")) {
                String token = BackupRestoreTest.token(server, restored, clientId, secret);
                assertThat(BackupRestoreTest.read(server, restored, token, firstPatient).statusCode()).isEqualTo(200);
                servingMillis = (System.nanoTime() - start) / 1_000_000;
                System.out.printf("MEASURED time to serving: %d ms%n", servingMillis);
                var search = BackupRestoreTest.send(server, restored, HttpRequest.newBuilder(
                        BackupRestoreTest.uri(server, "/fhir/Patient?_count=1"))
                        .header("Authorization", "Bearer " + token));
                assertThat(search.statusCode()).as(search.body()).isEqualTo(200);
            }
            System.out.printf("MEASURED backup: %d ms, %d bytes in the backup directory%n", backupMillis, bytes);
            System.out.printf("MEASURED restore (verify, load, migrations, ledger, audit verify): %d ms%n", restoreMillis);
            System.out.printf("MEASURED restored server start to first record served: %d ms%n", servingMillis);
            System.out.printf("MEASURED drill total: %d ms%n", backupMillis + restoreMillis + servingMillis);
        } finally {
            FileSystemUtils.deleteRecursively(root);
        }
    }
}
