package health.carapace.backup;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.CarapaceApplication;
import health.carapace.CarapaceCli;
import health.carapace.audit.AuditContext;
import health.carapace.cli.Launcher;
import health.carapace.cli.ServerHandle;
import health.carapace.crypto.SystemSecrets;
import health.carapace.disposal.Shredding;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.PhiScanner;
import health.carapace.testing.TestInstallation;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.DriverManager;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.springframework.util.FileSystemUtils;

/**
 * Issue 21, item 6, through the launcher's command line as an operator runs it: a running start-dev
 * installation with records is backed up, a patient is crypto-shredded afterwards, the installation
 * is destroyed, and the backup is restored on a fresh one (only the dev KEK keystore carried over)
 * — records readable over the API, the later shredding applied again from the ledger, {@code audit
 * verify} passing. A tampered, truncated or foreign backup is refused before anything is loaded; the
 * PHI file holds no plaintext and no key; a non-empty installation is not overwritten. The signing
 * key a restore trusts comes from {@code backup signing-key}, never from the backup (a forged backup
 * bringing its own is refused), and a shredding ledger older than the backup is refused (ADR 0040).
 */
class BackupRestoreTest {

    private static final Launcher.Application APP = CarapaceApplication::run;
    private static final String KEPT = "Zqkeptbackupcanary" + UUID.randomUUID().toString().substring(0, 8);
    private static final String SHREDDED = "Zqshreddedbackupcanary" + UUID.randomUUID().toString().substring(0, 8);
    private static final String NOTE = "Zqnotebackupcanary" + UUID.randomUUID().toString().substring(0, 8);
    private static final List<String> CANARIES = List.of(KEPT, SHREDDED, NOTE);

    private static Path root;
    private static Path backup;
    private static Path keys;
    private static Path kek;
    private static Path signingKey;
    private static String signingKeyId;
    private static Path ledger;
    private static Path staleLedger;
    private static String earlierShreddedPatient;
    private static String clientId;
    private static String clientSecret;
    private static String keptPatient;
    private static String shreddedPatient;
    private static String pendingOnlyPatient;
    private static UUID pendingOnlyRequest;
    private static byte[] ledgerKey;
    private static String installationId;
    private static String backupOutput;
    private static String headCommandOutput;
    private static String approvalWithoutLedgerLine;
    private static String stateWithoutLedgerLine;
    private static int readWithoutLedgerLine;

    @BeforeAll
    static void backUpARunningInstallationThenShredAPatientAndDestroyIt() throws Exception {
        root = Files.createTempDirectory("carapace-backup-test-");
        keys = Files.createDirectories(root.resolve("backup-keys"));
        assertThat(cli("backup", "keys", "--out-dir=" + keys).code()).isZero();
        ledger = root.resolve("shredding-ledger.jsonl");
        Path source = root.resolve("source");
        backup = root.resolve("backup-1");
        try (ServerHandle server = Launcher.dev(source, APP, "--server.port=0",
                "--carapace.backup.shredding-ledger=" + ledger)) {
            ServiceClients.Credentials client = server.context().getBean(ServiceClients.class)
                    .create("backup-test", Set.of("records-service"));
            clientId = client.clientId();
            clientSecret = client.clientSecret();
            String token = token(server, source);
            keptPatient = create(server, source, token, "Patient",
                    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + KEPT + "\"}],\"birthDate\":\"1970-01-01\"}");
            shreddedPatient = create(server, source, token, "Patient",
                    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + SHREDDED + "\"}]}");
            create(server, source, token, "Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\","
                    + "\"code\":{\"text\":\"" + NOTE + "\"},\"subject\":{\"reference\":\"Patient/" + keptPatient + "\"}}");
            pendingOnlyPatient = create(server, source, token, "Patient",
                    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Pendingonly\"}]}");
            Shredding shredding = server.context().getBean(Shredding.class);

            // Before the backup: a patient is shredded; a copy of the ledger from before that is a stale one.
            assertThat(ShreddingLedger.read(ledger).lines()).as("created empty at the server's start").isEmpty();
            staleLedger = Files.copy(ledger, root.resolve("stale-shredding-ledger.jsonl"));
            earlierShreddedPatient = create(server, source, token, "Patient",
                    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Earlier\"}]}");
            Shredding.Request earlier = shredding.request(new Shredding.Origin("admin-one", AuditContext.none(), null),
                    earlierShreddedPatient, "RET-2026-0000");
            assertThat(shredding.approve(new Shredding.Origin("admin-two", AuditContext.none(), null), earlier.id())
                    .state()).isEqualTo("executed");

            // What the operator keeps apart from the backups: the installation's signing key, exported once.
            signingKey = root.resolve("signing-key.pem");
            Cli exported = cli("backup", "signing-key", "--out=" + signingKey, "--data-dir=" + source);
            assertThat(exported.code()).as(exported.err()).isZero();
            Matcher id = Pattern.compile("key id:\\s+([0-9a-f]{64})").matcher(exported.out());
            assertThat(id.find()).as(exported.out()).isTrue();
            signingKeyId = id.group(1);

            // The backup is made while the server serves.
            Cli made = cli("backup", "--out=" + backup, "--public-key=" + keys.resolve("backup-public-key.json"),
                    "--data-dir=" + source);
            assertThat(made.code()).as(made.err()).isZero();
            backupOutput = made.out() + made.err();
            assertThat(made.err()).contains("phi: table").contains("keyring: table");
            assertThat(made.out()).contains("one-snapshot").contains("signed by:     " + signingKeyId);
            try (var files = Files.list(backup)) {
                assertThat(files.map(f -> f.getFileName().toString())).as("no signing key travels with the backup")
                        .containsExactlyInAnyOrder(BackupArchive.PHI_FILE, BackupArchive.KEYRING_FILE,
                                BackupArchive.MANIFEST, BackupArchive.MANIFEST_SIGNATURE);
            }

            // After the backup: the second patient is crypto-shredded under dual control.
            Shredding.Request request = shredding.request(new Shredding.Origin("admin-one", AuditContext.none(), null),
                    shreddedPatient, "RET-2026-0001");
            // Fail closed first: while no ledger line can be written (a directory stands where the
            // file goes), the approval is refused and rolled back whole.
            Path kept = Files.move(ledger, root.resolve("ledger-aside.jsonl"));
            Files.createDirectories(ledger);
            try {
                shredding.approve(new Shredding.Origin("admin-two", AuditContext.none(), null), request.id());
                approvalWithoutLedgerLine = "approved";
            } catch (RuntimeException refused) {
                approvalWithoutLedgerLine = "refused";
            }
            stateWithoutLedgerLine = shredding.find(request.id()).orElseThrow().state();
            readWithoutLedgerLine = read(server, source, token, shreddedPatient).statusCode();
            Files.delete(ledger);
            Files.move(kept, ledger);
            assertThat(shredding.approve(new Shredding.Origin("admin-two", AuditContext.none(), null), request.id())
                    .state()).isEqualTo("executed");
            assertThat(read(server, source, token, shreddedPatient).statusCode()).isEqualTo(410);
            // ADR 0049: what the operator records off-host for a restore's --ledger-head.
            Cli headNow = cli("keys", "shredding", "head", "--data-dir=" + source);
            assertThat(headNow.code()).as(headNow.err()).isZero();
            headCommandOutput = headNow.out();

            // ADR 0046: a third shredding's pending line was forced, and the node died before its approval
            // committed (or before it could write the outcome): the request is still pending in the database.
            SystemSecrets secrets = server.context().getBean(SystemSecrets.class);
            ledgerKey = secrets.getOrCreate(ShreddingLedger.MAC_KEY_NAME, () -> {
                throw new AssertionError("the node made its ledger key at its first start");
            });
            installationId = java.util.HexFormat.of().formatHex(secrets.getOrCreate(ShreddingLedger.INSTALLATION_NAME, () -> {
                throw new AssertionError("the node made its installation id at its first start");
            }));
            Shredding.Request third = shredding.request(new Shredding.Origin("admin-one", AuditContext.none(), null),
                    pendingOnlyPatient, "RET-2026-0002");
            pendingOnlyRequest = third.id();
            ShreddingLedger.append(ledger, ledgerKey, installationId, ShreddingLedger.PENDING, new ShreddingLedger.Entry(
                    "Patient/" + pendingOnlyPatient, third.id(), java.time.Instant.now(), "admin-one", "admin-two"));
        }
        // Each shredding: a pending line before its approval commits, a committed one after.
        assertThat(ShreddingLedger.read(ledger).lines()).extracting(line -> line.state() + " " + line.entry().compartment())
                .containsExactly("pending Patient/" + earlierShreddedPatient, "committed Patient/" + earlierShreddedPatient,
                        "pending Patient/" + shreddedPatient, "committed Patient/" + shreddedPatient,
                        "pending Patient/" + pendingOnlyPatient);
        // What the operator keeps apart from the backups: the dev KEK keystore (and the signing key, above).
        kek = root.resolve("kek-keys");
        FileSystemUtils.copyRecursively(source.resolve("keys"), kek);
        FileSystemUtils.deleteRecursively(source);
    }

    @AfterAll
    static void removeTheInstallations() throws IOException {
        FileSystemUtils.deleteRecursively(root);
    }

    @Test
    void restoredOnAFreshInstallationTheRecordsServeTheLaterShreddingHoldsAndTheAuditTrailVerifies() throws Exception {
        Path restored = fresh("restored");
        // s7 review finding 5: the node crashed mid-append; the torn last line (never forced) blocks nothing.
        Path torn = root.resolve("ledger-with-a-torn-line.jsonl");
        Files.copy(ledger, torn);
        Files.writeString(torn, "{\"seq\":6,\"installation\":\"" + installationId + "\",\"state\":\"pen",
                java.nio.file.StandardOpenOption.APPEND);
        ShreddingLedger.Head head = ShreddingLedger.read(ledger).verify(ledgerKey, installationId).head().orElseThrow();
        Cli restore = cli("restore", "--from=" + backup, "--private-key=" + keys.resolve("backup-private-key.json"),
                "--signing-key=" + signingKey, "--shredding-ledger=" + torn, "--data-dir=" + restored,
                "--carapace.backup.signing-key-id=" + signingKeyId, "--ledger-head=" + head);
        assertThat(restore.code()).as(restore.err()).isZero();
        assertThat(restore.out()).contains("RESTORED").contains("2 applied again from the ledger")
                .contains("1 already in the backup").contains("1 never confirmed (applied all the same)")
                .contains("never confirmed: Patient/" + pendingOnlyPatient + " (shredding request " + pendingOnlyRequest)
                .contains("ledger head:   " + head).contains("audit verify:  OK");
        assertThat(restore.err()).contains("are a torn line").contains("ignored");
        assertThat(restore.err()).contains("verified: the manifest's signature").contains("MiB of SQL loaded");
        assertThat(PhiScanner.inText("backup and restore output", backupOutput + restore.out() + restore.err(), CANARIES))
                .isEmpty();

        Cli verify = cli("audit", "verify", "--data-dir=" + restored);
        assertThat(verify.code()).as(verify.out()).isZero();
        assertThat(verify.out()).startsWith("OK");

        try (ServerHandle server = Launcher.dev(restored, APP, "--server.port=0")) {
            String token = token(server, restored); // the service client came back with the backup
            HttpResponse<String> kept = read(server, restored, token, keptPatient);
            assertThat(kept.statusCode()).isEqualTo(200);
            assertThat(kept.body()).contains(KEPT);
            HttpResponse<String> search = send(server, restored, HttpRequest.newBuilder(
                    uri(server, "/fhir/Observation?subject=Patient/" + keptPatient)).header("Authorization", "Bearer " + token));
            assertThat(search.body()).contains(NOTE);
            // Shredded after the backup was made: the ledger shredded it again before anything served.
            HttpResponse<String> shredded = read(server, restored, token, shreddedPatient);
            assertThat(shredded.statusCode()).isEqualTo(410);
            assertThat(shredded.body()).doesNotContain(SHREDDED);
            assertThat(read(server, restored, token, earlierShreddedPatient).statusCode()).isEqualTo(410);
            // Its outcome never written: a restore does not undo a shredding two administrators approved.
            assertThat(read(server, restored, token, pendingOnlyPatient).statusCode()).isEqualTo(410);
        }

        assertThat(PhiScanner.inFiles(restored.resolve("logs"), CANARIES)).as("canaries in the restored logs").isEmpty();
        assertThat(PhiScanner.inText("shredding ledger", Files.readString(ledger), CANARIES))
                .as("the ledger holds references only (ids and principals), no name").isEmpty();

        // Its backups are signed by the restored keyring's key, the pinned one; with another id pinned, backup
        // refuses at once rather than write a backup its own restore would refuse.
        Cli otherPin = cli("backup", "--out=" + root.resolve("backup-other-pin"),
                "--public-key=" + keys.resolve("backup-public-key.json"), "--data-dir=" + restored,
                "--carapace.backup.signing-key-id=" + "0".repeat(64));
        assertThat(otherPin.code()).as(otherPin.err()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(otherPin.err()).contains("is not this installation's backup signing key (" + signingKeyId + ")");

        // The installation now holds data: another restore onto it is refused and changes nothing.
        Cli again = cli("restore", "--from=" + backup, "--private-key=" + keys.resolve("backup-private-key.json"),
                "--signing-key=" + signingKey, "--shredding-ledger=" + ledger, "--data-dir=" + restored,
                "--signing-key-id=" + signingKeyId, "--no-ledger-head");
        assertThat(again.code()).as(again.err()).isEqualTo(BackupRefused.NOT_EMPTY);
        assertThat(again.err()).contains("WARNING: --no-ledger-head");
        assertThat(again.err()).contains("not empty").contains("fresh installation");
        try (DevEnvironment dev = DevEnvironment.open(restored);
                var connection = DriverManager.getConnection(dev.properties().get("carapace.db.url").toString(),
                        DevDatabase.OWNER, "")) {
            JdbcClient owner = JdbcClient.create(new SingleConnectionDataSource(connection, true));
            assertThat(BackupLoader.unfinished(new DatabaseTarget(dev.properties().get("carapace.db.url").toString(),
                    DevDatabase.OWNER, ""))).as("the finished restore removed its marker").isFalse();
            assertThat(owner.sql("select count(*) from phi.resource where resource_type = 'Patient'")
                    .query(Long.class).single()).isEqualTo(4);
            assertThat(owner.sql("select count(*) from phi.shredded_compartment").query(Long.class).single()).isEqualTo(3);
        }
    }

    @Test
    void aForgedBackupCarryingItsOwnSigningKeyIsRefusedBeforeAnythingIsLoaded() throws Exception {
        // Someone who can write the backup share forges a backup and signs it with a key of their own,
        // which they leave beside it where the old layout kept the installation's key.
        Path forged = copyOfTheBackup("forged");
        var forger = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Files.write(forged.resolve(BackupArchive.MANIFEST_SIGNATURE),
                BackupArchive.sign(forger.getPrivate(), Files.readAllBytes(forged.resolve(BackupArchive.MANIFEST))));
        Path bundledKey = forged.resolve("manifest-signing-key.pem");
        Files.writeString(bundledKey, BackupArchive.pem(forger.getPublic()));

        Cli inside = restoreWithSigningKey(forged, bundledKey);
        assertThat(inside.code()).as(inside.err()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(inside.err()).contains("--signing-key is inside the backup directory");
        // The same file reached through a link from outside is the same file.
        Path link = Files.createSymbolicLink(root.resolve("innocent-looking-key.pem"), bundledKey);
        Cli linked = restoreWithSigningKey(forged, link);
        assertThat(linked.code()).as(linked.err()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(linked.err()).contains("inside the backup directory");
        // Copied out of the backup and given with the installation's pinned id: not the pinned key.
        Path copiedOut = Files.copy(bundledKey, root.resolve("copied-out-key.pem"));
        Cli pinned = restoreWithSigningKey(forged, copiedOut, "--carapace.backup.signing-key-id=" + signingKeyId);
        assertThat(pinned.code()).as(pinned.err()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(pinned.err()).contains("not the pinned backup signing key").contains(signingKeyId);
        // And the installation's real key refuses the forged manifest's signature.
        Cli real = restoreWithSigningKey(forged, signingKey, "--carapace.backup.signing-key-id=" + signingKeyId);
        assertThat(real.code()).as(real.err()).isEqualTo(BackupRefused.REFUSED);
        assertThat(real.err()).contains("signature does not verify");
        // Found running it: odd files where the key belongs are refused as such, echoing nothing.
        Cli devNull = restoreWithSigningKey(backup, Path.of("/dev/null"));
        assertThat(devNull.code()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(devNull.err()).contains("not an Ed25519 public key in PEM");
        Cli directory = restoreWithSigningKey(backup, root);
        assertThat(directory.code()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(directory.err()).contains("--signing-key cannot be read");
        for (Cli refused : List.of(inside, linked, pinned, real, devNull, directory)) {
            assertThat(refused.err()).contains("NOT RESTORED").doesNotContain("loading");
        }
    }

    /**
     * s7 review finding 2: without a pinned key id (neither carapace.backup.signing-key-id nor
     * --signing-key-id) any key file outside --from would be trusted, a forger's included, and the
     * signature is what keeps a forger's SQL from psql. So restore refuses before loading anything.
     */
    @Test
    void aRestoreWithoutAPinnedSigningKeyIdIsRefusedEvenWithAForgersKeyFromOutsideTheBackup() throws Exception {
        Path forged = copyOfTheBackup("forged-unpinned");
        var forger = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Files.write(forged.resolve(BackupArchive.MANIFEST_SIGNATURE),
                BackupArchive.sign(forger.getPrivate(), Files.readAllBytes(forged.resolve(BackupArchive.MANIFEST))));
        Path forgersKey = root.resolve("where-the-runbook-points.pem");
        Files.writeString(forgersKey, BackupArchive.pem(forger.getPublic()));

        Cli unpinned = restoreWithSigningKey(forged, forgersKey);
        assertThat(unpinned.code()).as(unpinned.err()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(unpinned.err()).contains("no backup signing key id is pinned").contains("--signing-key-id")
                .doesNotContain("loading");
        // The real backup and the real key, but no id: refused the same way (the pin is not optional).
        Cli realUnpinned = restoreWithSigningKey(backup, signingKey);
        assertThat(realUnpinned.code()).as(realUnpinned.err()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(realUnpinned.err()).contains("no backup signing key id is pinned");
        // The id on the command line pins: the forger's key is not that key.
        Cli pinnedOnTheCommandLine = restoreWithSigningKey(forged, forgersKey, "--signing-key-id=" + signingKeyId);
        assertThat(pinnedOnTheCommandLine.code()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(pinnedOnTheCommandLine.err()).contains("not the pinned backup signing key");
        // An id that disagrees with the configured pin, or is not an id, is refused, echoing nothing.
        Cli disagreeing = restoreWithSigningKey(backup, signingKey, "--signing-key-id=" + "0".repeat(64),
                "--carapace.backup.signing-key-id=" + signingKeyId);
        assertThat(disagreeing.code()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(disagreeing.err()).contains("is not the id carapace.backup.signing-key-id pins");
        Cli notAnId = restoreWithSigningKey(backup, signingKey, "--signing-key-id=Zq<script>");
        assertThat(notAnId.code()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(notAnId.err()).contains("not a key id").doesNotContain("Zq<script>");
    }

    @Test
    void aLedgerOlderThanTheBackupIsRefusedAndNothingStaysLoaded() throws Exception {
        // A ledger restored from a file backup older than the database backup (or a node's ledger
        // left out): it lacks a shredding the backup already holds, so shreddings made since could be
        // missing too. The restore refuses instead of reviving those patients, and drops what it loaded.
        Path target = fresh("stale-ledger");
        // s7 review finding 1: an earlier restore onto it died after its load, leaving its marker and
        // what it loaded; nodes stay refused (RestoreGateTest), and running restore again starts over.
        try (DevEnvironment dev = DevEnvironment.open(target);
                var connection = DriverManager.getConnection(dev.properties().get("carapace.db.url").toString(),
                        DevDatabase.OWNER, "")) {
            BackupLoader.mark(new DatabaseTarget(dev.properties().get("carapace.db.url").toString(), DevDatabase.OWNER, ""));
            connection.createStatement().execute("create schema phi; create table phi.left_by_the_dead_restore (x int)");
        }
        Cli restore = cli("restore", "--from=" + backup, "--private-key=" + keys.resolve("backup-private-key.json"),
                "--signing-key=" + signingKey, "--shredding-ledger=" + staleLedger, "--data-dir=" + target,
                "--signing-key-id=" + signingKeyId, "--no-ledger-head");
        assertThat(restore.code()).as(restore.err()).isEqualTo(BackupRefused.REFUSED);
        assertThat(restore.err()).contains("an earlier restore of this installation did not finish")
                .contains("starting over")
                .contains("do not list 1 shredding(s) this installation's database already holds")
                .contains("removing what it loaded");
        try (DevEnvironment dev = DevEnvironment.open(target)) {
            assertThat(BackupLoader.schemasHoldingTables(DatabaseTarget.of(
                    new org.springframework.mock.env.MockEnvironment().withProperty("carapace.db.url",
                            dev.properties().get("carapace.db.url").toString())
                            .withProperty("carapace.db.username", DevDatabase.OWNER), "carapace.db")))
                    .as("nothing of the refused restore stays").isEmpty();
        }
    }

    /**
     * s7 review finding 3 (ADR 0046): the audit trail records the ledger's head at every append, and the
     * operator may give the last head its off-host copy holds. A ledger that lists every shredding the
     * backup holds but is another chain, or is cut after the backup's point, is refused.
     */
    @Test
    void aLedgerThatDoesNotReachARecordedOrGivenHeadIsRefusedAndNothingStaysLoaded() throws Exception {
        List<String> lines = Files.readAllLines(ledger, StandardCharsets.UTF_8);
        ShreddingLedger.Head head = ShreddingLedger.read(ledger).verify(ledgerKey, installationId).head().orElseThrow();
        // Cut after the backup's point (the backup's trail recorded head 2): only the off-host head shows it.
        Path cut = root.resolve("cut-after-the-backup.jsonl");
        Files.write(cut, lines.subList(0, 2), StandardCharsets.UTF_8);
        Path target = fresh("cut-ledger");
        Cli refused = cli("restore", "--from=" + backup, "--private-key=" + keys.resolve("backup-private-key.json"),
                "--signing-key=" + signingKey, "--shredding-ledger=" + cut, "--data-dir=" + target,
                "--signing-key-id=" + signingKeyId, "--ledger-head=" + head);
        assertThat(refused.code()).as(refused.err()).isEqualTo(BackupRefused.REFUSED);
        assertThat(refused.err()).contains("no shredding ledger given reaches the head " + head + " given with --ledger-head")
                .contains("removing what it loaded");
        // Another chain, made with the installation's key, listing the shredding the backup holds: the head the
        // backup's own trail recorded (a copy the ledger's host cannot rewrite) is not in it.
        Path other = root.resolve("another-chain.jsonl");
        ShreddingLedger.Line earlier = ShreddingLedger.read(ledger).lines().get(1);
        ShreddingLedger.append(other, ledgerKey, installationId, ShreddingLedger.ROLLED_BACK, new ShreddingLedger.Entry(
                "Patient/" + UUID.randomUUID(), UUID.randomUUID(), java.time.Instant.now(), "x", "y"));
        ShreddingLedger.append(other, ledgerKey, installationId, ShreddingLedger.COMMITTED, earlier.entry());
        Path target2 = fresh("other-chain");
        Cli otherChain = cli("restore", "--from=" + backup, "--private-key=" + keys.resolve("backup-private-key.json"),
                "--signing-key=" + signingKey, "--shredding-ledger=" + other, "--data-dir=" + target2,
                "--signing-key-id=" + signingKeyId, "--no-ledger-head");
        assertThat(otherChain.code()).as(otherChain.err()).isEqualTo(BackupRefused.REFUSED);
        assertThat(otherChain.err()).contains("no shredding ledger given reaches the head").contains("the audit trail recorded");
        // Not a head: refused before anything starts, echoing nothing.
        Cli notAHead = cli("restore", "--from=" + backup, "--private-key=" + keys.resolve("backup-private-key.json"),
                "--signing-key=" + signingKey, "--shredding-ledger=" + ledger, "--data-dir=" + fresh("not-a-head"),
                "--signing-key-id=" + signingKeyId, "--ledger-head=Zq<script>");
        assertThat(notAHead.code()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(notAHead.err()).contains("--ledger-head is not LEDGER:SEQ:MAC").doesNotContain("Zq<script>");
        for (Path dir : List.of(target, target2)) {
            try (DevEnvironment dev = DevEnvironment.open(dir)) {
                assertThat(BackupLoader.schemasHoldingTables(new DatabaseTarget(dev.properties().get("carapace.db.url")
                        .toString(), DevDatabase.OWNER, ""))).as("nothing of the refused restore stays").isEmpty();
            }
        }
    }

    /**
     * s9 review M-3: with several nodes' ledgers, one head given must not pass for all: node B's ledger,
     * cut after the backup, shows only against its own head. Each ledger given, and each ledger the
     * restored trail recorded a head of, needs one (unless --no-ledger-head); refused, exit 2.
     */
    @Test
    void everyLedgerGivenOrRecordedNeedsItsOwnOffHostHead() throws Exception {
        ShreddingLedger.Head head = ShreddingLedger.read(ledger).verify(ledgerKey, installationId).head().orElseThrow();
        // Node B's ledger, authentic (the installation's key), listing a shredding of a patient the backup lacks.
        Path nodeB = root.resolve("node-b-ledger.jsonl");
        ShreddingLedger.append(nodeB, ledgerKey, installationId, ShreddingLedger.COMMITTED, new ShreddingLedger.Entry(
                "Patient/" + UUID.randomUUID(), UUID.randomUUID(), java.time.Instant.now(), "x", "y"));
        ShreddingLedger.Head nodeBHead = ShreddingLedger.read(nodeB).verify(ledgerKey, installationId).head().orElseThrow();
        Cli oneHeadForTwo = cli("restore", "--from=" + backup, "--private-key=" + keys.resolve("backup-private-key.json"),
                "--signing-key=" + signingKey, "--shredding-ledger=" + ledger, "--shredding-ledger=" + nodeB,
                "--data-dir=" + fresh("one-head-for-two"), "--signing-key-id=" + signingKeyId, "--ledger-head=" + head);
        assertThat(oneHeadForTwo.code()).as(oneHeadForTwo.err()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(oneHeadForTwo.err()).contains("1 shredding ledger(s) given have no --ledger-head (ledger "
                + nodeBHead.ledger() + ")").contains("nothing was loaded");
        // A ledger the restored trail recorded (node A's) with no head given: refused once the trail is
        // there, and what was loaded goes.
        Path target = fresh("recorded-ledger-without-head");
        Cli recordedWithoutHead = cli("restore", "--from=" + backup, "--private-key=" + keys.resolve("backup-private-key.json"),
                "--signing-key=" + signingKey, "--shredding-ledger=" + nodeB, "--data-dir=" + target,
                "--signing-key-id=" + signingKeyId, "--ledger-head=" + nodeBHead);
        assertThat(recordedWithoutHead.code()).as(recordedWithoutHead.err()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(recordedWithoutHead.err()).contains("1 shredding ledger(s) have no --ledger-head (ledger "
                + head.ledger() + ")").contains("removing what it loaded");
        try (DevEnvironment dev = DevEnvironment.open(target)) {
            assertThat(BackupLoader.schemasHoldingTables(new DatabaseTarget(dev.properties().get("carapace.db.url")
                    .toString(), DevDatabase.OWNER, ""))).as("nothing of the refused restore stays").isEmpty();
        }
    }

    @Test
    void anApprovalWhoseLedgerLineCannotBeWrittenIsRefusedAndRolledBack() {
        assertThat(approvalWithoutLedgerLine).isEqualTo("refused");
        assertThat(stateWithoutLedgerLine).as("the request is still pending").isEqualTo("pending");
        assertThat(readWithoutLedgerLine).as("no tombstone was committed").isEqualTo(200);
    }

    @Test
    void aRestoreWithoutTheLedgerMustBeToldSoExplicitly() throws Exception {
        Path target = fresh("no-ledger");
        Cli restore = cli("restore", "--from=" + backup, "--private-key=" + keys.resolve("backup-private-key.json"),
                "--signing-key=" + signingKey, "--data-dir=" + target);
        assertThat(restore.code()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(restore.err()).contains("--shredding-ledger").contains("--without-shredding-ledger");
        assertThat(target.resolve("pg")).as("no database was even started").doesNotExist();
    }

    /**
     * ADR 0049 (review finding M2): the heads the restored trail recorded reach only up to the backup, so a
     * ledger cut after it is caught only by a head kept off-host. A restore with a ledger therefore needs
     * {@code --ledger-head} (printed by backup and by {@code keys shredding head}) or an explicit
     * {@code --no-ledger-head}, which is printed as a warning and recorded in the restored audit trail.
     */
    @Test
    void aRestoreWithALedgerNeedsAnOffHostHeadOrAnExplicitNoLedgerHead() throws Exception {
        List<String> lines = Files.readAllLines(ledger, StandardCharsets.UTF_8);
        Path atBackup = root.resolve("ledger-as-at-the-backup.jsonl");
        Files.write(atBackup, lines.subList(0, 2), StandardCharsets.UTF_8);
        Path beforeThePendingLine = root.resolve("ledger-before-the-pending-line.jsonl");
        Files.write(beforeThePendingLine, lines.subList(0, 4), StandardCharsets.UTF_8);
        // Where the operator gets the head: backup prints the one its trail holds; the command the latest.
        assertThat(backupOutput).contains("ledger head:   "
                + ShreddingLedger.read(atBackup).verify(ledgerKey, installationId).head().orElseThrow());
        assertThat(headCommandOutput.strip()).isEqualTo(
                ShreddingLedger.read(beforeThePendingLine).verify(ledgerKey, installationId).head().orElseThrow().toString());

        Path target = fresh("no-head");
        Cli neither = cli("restore", "--from=" + backup, "--private-key=" + keys.resolve("backup-private-key.json"),
                "--signing-key=" + signingKey, "--shredding-ledger=" + ledger, "--data-dir=" + target,
                "--signing-key-id=" + signingKeyId);
        assertThat(neither.code()).as(neither.err()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(neither.err()).contains("NOT RESTORED").contains("--ledger-head").contains("--no-ledger-head")
                .contains("keys shredding head");
        assertThat(target.resolve("pg")).as("no database was even started").doesNotExist();
        Cli both = cli("restore", "--from=" + backup, "--private-key=" + keys.resolve("backup-private-key.json"),
                "--signing-key=" + signingKey, "--shredding-ledger=" + ledger, "--data-dir=" + target,
                "--signing-key-id=" + signingKeyId, "--no-ledger-head",
                "--ledger-head=" + ShreddingLedger.read(ledger).verify(ledgerKey, installationId).head().orElseThrow());
        assertThat(both.code()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(both.err()).contains("contradict");
        assertThat(target.resolve("pg")).doesNotExist();

        // Said explicitly: restored, with the warning on both streams and in the restored trail.
        Cli unchecked = cli("restore", "--from=" + backup, "--private-key=" + keys.resolve("backup-private-key.json"),
                "--signing-key=" + signingKey, "--shredding-ledger=" + ledger, "--data-dir=" + target,
                "--signing-key-id=" + signingKeyId, "--no-ledger-head");
        assertThat(unchecked.code()).as(unchecked.err()).isZero();
        assertThat(unchecked.err()).contains("WARNING: --no-ledger-head");
        assertThat(unchecked.out()).contains("RESTORED").contains("WARNING:       restored with --no-ledger-head");
        try (DevEnvironment dev = DevEnvironment.open(target);
                var connection = DriverManager.getConnection(dev.properties().get("carapace.db.url").toString(),
                        DevDatabase.OWNER, "")) {
            JdbcClient owner = JdbcClient.create(new SingleConnectionDataSource(connection, true));
            assertThat(owner.sql("select count(*) from audit.event where convert_from(body, 'UTF8') like ?")
                    .param("%/restored-without-ledger-head%").query(Long.class).single()).isEqualTo(1);
        }
    }

    @Test
    void aTamperedTruncatedOrForeignBackupIsRefusedBeforeAnythingIsLoaded() throws Exception {
        Path tampered = copyOfTheBackup("tampered");
        flipAByte(tampered.resolve(BackupArchive.PHI_FILE));
        assertRefused(tampered, signingKey, "phi.sql.gz.sealed does not match its SHA-256");

        Path truncated = copyOfTheBackup("truncated");
        try (RandomAccessFile file = new RandomAccessFile(truncated.resolve(BackupArchive.KEYRING_FILE).toFile(), "rw")) {
            file.setLength(file.length() - 100);
        }
        assertRefused(truncated, signingKey, "keyring.sql.gz.sealed has").contains("truncated");

        Path editedManifest = copyOfTheBackup("edited-manifest");
        String manifest = Files.readString(editedManifest.resolve(BackupArchive.MANIFEST));
        Files.writeString(editedManifest.resolve(BackupArchive.MANIFEST), manifest.replace("one-snapshot", "one-snapshoT"));
        assertRefused(editedManifest, signingKey, "signature does not verify");

        // Signed by another installation's key (say, an attacker's own): the pinned key refuses it.
        Path otherKey = root.resolve("other-signing-key.pem");
        var other = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Files.writeString(otherKey, BackupArchive.pem(other.getPublic()));
        assertRefused(backup, otherKey, "signature does not verify");
    }

    @Test
    void oddTargetsAndForeignDirectoriesAreRefusedBeforeAnythingStarts() throws Exception {
        Path occupied = Files.createDirectories(root.resolve("occupied"));
        Files.writeString(occupied.resolve("something"), "x");
        Cli intoOccupied = cli("backup", "--out=" + occupied, "--data-dir=" + root.resolve("unused"));
        assertThat(intoOccupied.code()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(intoOccupied.err()).contains("new or empty directory");
        Cli intoAFile = cli("backup", "--out=" + occupied.resolve("something"), "--data-dir=" + root.resolve("unused"));
        assertThat(intoAFile.code()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(root.resolve("unused")).as("no installation was opened").doesNotExist();

        Path target = fresh("foreign-" + UUID.randomUUID());
        Cli notABackup = cli("restore", "--from=" + occupied, "--private-key=" + keys.resolve("backup-private-key.json"),
                "--signing-key=" + signingKey, "--shredding-ledger=" + ledger, "--data-dir=" + target,
                "--signing-key-id=" + signingKeyId, "--no-ledger-head");
        assertThat(notABackup.code()).isEqualTo(BackupRefused.REFUSED);
        assertThat(notABackup.err()).contains("manifest.json is missing");
        // The public key where the private key belongs (and the reverse) is refused by kind, echoing neither.
        Cli swappedKeys = cli("restore", "--from=" + backup, "--private-key=" + keys.resolve("backup-public-key.json"),
                "--signing-key=" + signingKey, "--shredding-ledger=" + ledger, "--data-dir=" + target,
                "--signing-key-id=" + signingKeyId, "--no-ledger-head");
        assertThat(swappedKeys.code()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(swappedKeys.err()).contains("does not hold a backup private key")
                .doesNotContain(Files.readString(keys.resolve("backup-public-key.json")).substring(0, 40));
        // Another backup key pair's private key: refused by the manifest's recipient key id, before any load.
        Path strangerKey = root.resolve("stranger-private-key.json");
        Files.writeString(strangerKey, BackupArchive.newKeyPair().privateKeysetJson());
        Cli wrongKey = cli("restore", "--from=" + backup, "--private-key=" + strangerKey,
                "--signing-key=" + signingKey, "--shredding-ledger=" + ledger, "--data-dir=" + target,
                "--signing-key-id=" + signingKeyId, "--no-ledger-head");
        assertThat(wrongKey.code()).as(wrongKey.err()).isEqualTo(BackupRefused.UNUSABLE);
        assertThat(wrongKey.err()).contains("--private-key is not the key this backup was sealed to")
                .contains("nothing was loaded").doesNotContain("loading");
        Cli unknownOption = cli("restore", "--from=" + backup, "--private-key=" + keys.resolve("backup-private-key.json"),
                "--signing-key=" + signingKey, "--shredding-ledger=" + ledger, "--data-dir=" + target, "--no-ledger-head",
                "--frobnicate");
        assertThat(unknownOption.code()).isNotZero();
        assertThat(target.resolve("pg")).as("no database was started").doesNotExist();
    }

    @Test
    void thePhiFileHoldsNoPlaintextAndNoKeyEvenOnceDecrypted() throws Exception {
        assertThat(PhiScanner.inFiles(backup, CANARIES)).as("canaries in the sealed backup").isEmpty();
        assertThat(Files.getPosixFilePermissions(backup)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        for (String file : List.of(BackupArchive.PHI_FILE, BackupArchive.KEYRING_FILE, BackupArchive.MANIFEST)) {
            assertThat(Files.getPosixFilePermissions(backup.resolve(file))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        }
        var privateKey = BackupArchive.readPrivateKey(Files.readString(keys.resolve("backup-private-key.json")));
        // Worst case: the thief also holds the backup private key. The PHI database's SQL still holds
        // only ciphertext, and no data key at all: those are in the keyring file, wrapped by the KEK.
        String phiSql = open(backup.resolve(BackupArchive.PHI_FILE), privateKey);
        assertThat(phiSql).contains("COPY phi.resource_version").contains("COPY audit.event");
        assertThat(PhiScanner.inText("decrypted PHI file", phiSql, CANARIES)).isEmpty();
        assertThat(phiSql).doesNotContain("keyring.wrapped_key").doesNotContain("CREATE SCHEMA keyring");
        String keyringSql = open(backup.resolve(BackupArchive.KEYRING_FILE), privateKey);
        assertThat(keyringSql).contains("COPY keyring.wrapped_key").doesNotContain("COPY phi.");
        assertThat(PhiScanner.inText("decrypted keyring file", keyringSql, CANARIES)).isEmpty();
        // And with another backup key nothing opens at all.
        var stranger = BackupArchive.readPrivateKey(BackupArchive.newKeyPair().privateKeysetJson());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> open(backup.resolve(BackupArchive.PHI_FILE), stranger))
                .isInstanceOf(BackupRefused.class).hasMessageContaining("cannot be opened with this private key");
    }

    private static org.assertj.core.api.AbstractStringAssert<?> assertRefused(Path from, Path pinned, String problem)
            throws IOException {
        Path target = fresh("target-" + UUID.randomUUID());
        Cli restore = cli("restore", "--from=" + from, "--private-key=" + keys.resolve("backup-private-key.json"),
                "--signing-key=" + pinned, "--shredding-ledger=" + ledger, "--data-dir=" + target,
                "--signing-key-id=" + BackupArchive.signingKeyId(BackupArchive.readSigningKey(Files.readString(pinned))), "--no-ledger-head");
        assertThat(restore.code()).as(restore.err()).isEqualTo(BackupRefused.REFUSED);
        assertThat(target.resolve("pg")).as("nothing was loaded: no database was even started").doesNotExist();
        return assertThat(restore.err()).contains("NOT RESTORED").contains(problem);
    }

    private static Cli restoreWithSigningKey(Path from, Path key, String... more) throws IOException {
        Path target = fresh("signing-" + UUID.randomUUID());
        List<String> args = new java.util.ArrayList<>(List.of("restore", "--from=" + from,
                "--private-key=" + keys.resolve("backup-private-key.json"), "--signing-key=" + key,
                "--shredding-ledger=" + ledger, "--data-dir=" + target, "--no-ledger-head"));
        args.addAll(List.of(more));
        Cli restore = cli(args.toArray(String[]::new));
        assertThat(target.resolve("pg")).as("nothing was loaded: no database was even started").doesNotExist();
        return restore;
    }

    private static String open(Path file, com.google.crypto.tink.KeysetHandle key) throws IOException {
        ByteArrayOutputStream sql = new ByteArrayOutputStream();
        try (InputStream in = BackupArchive.opening(file, key)) {
            in.transferTo(sql);
        }
        return sql.toString(StandardCharsets.UTF_8);
    }

    private static Path copyOfTheBackup(String name) throws IOException {
        Path copy = root.resolve(name);
        FileSystemUtils.copyRecursively(backup, copy);
        return copy;
    }

    private static void flipAByte(Path file) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            long at = raf.length() / 2;
            raf.seek(at);
            int b = raf.read();
            raf.seek(at);
            raf.write(b ^ 0x01);
        }
    }

    /** A fresh installation's data directory holding only the backed-up installation's dev KEK keystore. */
    private static Path fresh(String name) throws IOException {
        Path dir = root.resolve(name);
        FileSystemUtils.copyRecursively(kek, dir.resolve("keys"));
        return dir;
    }

    record Cli(int code, String out, String err) {}

    static Cli cli(String... args) {
        var cli = CarapaceCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Cli(code, out.toString(), err.toString());
    }

    static String create(ServerHandle server, Path dataDir, String token, String type, String json) throws Exception {
        HttpResponse<String> created = send(server, dataDir, HttpRequest.newBuilder(uri(server, "/fhir/" + type))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        Matcher id = Pattern.compile("\"id\"\\s*:\\s*\"([0-9a-f-]{36})\"").matcher(created.body());
        assertThat(id.find()).isTrue();
        return id.group(1);
    }

    static HttpResponse<String> read(ServerHandle server, Path dataDir, String token, String patient)
            throws Exception {
        return send(server, dataDir, HttpRequest.newBuilder(uri(server, "/fhir/Patient/" + patient))
                .header("Authorization", "Bearer " + token).GET());
    }

    static URI uri(ServerHandle server, String path) {
        int port = ((WebServerApplicationContext) server.context()).getWebServer().getPort();
        return URI.create("https://localhost:" + port + path);
    }

    static HttpResponse<String> send(ServerHandle server, Path dataDir, HttpRequest.Builder request)
            throws Exception {
        HttpClient http = HttpClient.newBuilder().sslContext(TestInstallation.trustingSslContext(dataDir)).build();
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String token(ServerHandle server, Path dataDir) throws Exception {
        return token(server, dataDir, clientId, clientSecret);
    }

    static String token(ServerHandle server, Path dataDir, String clientId, String clientSecret) throws Exception {
        String basic = Base64.getEncoder().encodeToString((clientId + ":" + clientSecret).getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> response = send(server, dataDir, HttpRequest.newBuilder(uri(server, "/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        Matcher m = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"").matcher(response.body());
        assertThat(m.find()).isTrue();
        return m.group(1);
    }
}
