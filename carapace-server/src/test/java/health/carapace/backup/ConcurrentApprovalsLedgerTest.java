package health.carapace.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.CarapaceApplication;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditQueries;
import health.carapace.cli.Launcher;
import health.carapace.cli.ServerHandle;
import health.carapace.crypto.SystemSecrets;
import health.carapace.disposal.Shredding;
import health.carapace.signin.ServiceClients;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * s7 review finding 4 (ADR 0046): shredding approvals on one node at the same moment append to the
 * ledger one at a time (a lock in the JVM as well as the file lock, which is per process): every
 * approval succeeds, each writes its pending and committed lines, the chain stays whole, and the
 * audit trail records every head. A pending line the ledger applied marks its request executed, and
 * the next start writes its committed line; one whose request was refused since is left pending (s8
 * review M1). A ledger cut and appended to again is refused against the earlier recorded head (s8
 * review H1).
 */
class ConcurrentApprovalsLedgerTest {

    private static final int APPROVALS = 8;

    @TempDir
    Path root;

    @Test
    void approvalsAtOnceOnOneNodeAllSucceedAndKeepTheLedgerChainWhole() throws Exception {
        Path ledger = root.resolve("shredding-ledger.jsonl");
        Path source = root.resolve("node");
        try (ServerHandle server = Launcher.dev(source, CarapaceApplication::run, "--server.port=0",
                "--carapace.backup.shredding-ledger=" + ledger)) {
            ServiceClients.Credentials client = server.context().getBean(ServiceClients.class)
                    .create("concurrent-approvals", Set.of("records-service"));
            String token = BackupRestoreTest.token(server, source, client.clientId(), client.clientSecret());
            Shredding shredding = server.context().getBean(Shredding.class);
            List<Shredding.Request> requests = new ArrayList<>();
            for (int i = 0; i < APPROVALS; i++) {
                String patient = BackupRestoreTest.create(server, source, token, "Patient",
                        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Concurrent\"}]}");
                requests.add(shredding.request(new Shredding.Origin("admin-one", AuditContext.none(), null), patient,
                        "RET-2026-10" + i));
            }
            ExecutorService pool = Executors.newFixedThreadPool(APPROVALS);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Shredding.Request>> approvals = new ArrayList<>();
            try {
                for (Shredding.Request request : requests) {
                    approvals.add(pool.submit(() -> {
                        start.await();
                        return shredding.approve(new Shredding.Origin("admin-two", AuditContext.none(), null),
                                request.id());
                    }));
                }
                start.countDown();
                for (Future<Shredding.Request> approval : approvals) {
                    assertThat(approval.get(120, TimeUnit.SECONDS).state()).isEqualTo("executed");
                }
            } finally {
                pool.shutdownNow();
            }

            SystemSecrets secrets = server.context().getBean(SystemSecrets.class);
            byte[] key = secrets.getOrCreate(ShreddingLedger.MAC_KEY_NAME, () -> {
                throw new AssertionError("made at the first start");
            });
            String installation = HexFormat.of().formatHex(secrets.getOrCreate(ShreddingLedger.INSTALLATION_NAME, () -> {
                throw new AssertionError("made at the first start");
            }));
            ShreddingLedger.Ledger read = ShreddingLedger.read(ledger).verify(key, installation);
            assertThat(read.lines()).hasSize(2 * APPROVALS);
            assertThat(read.committed()).extracting(ShreddingLedger.Entry::request)
                    .containsExactlyInAnyOrderElementsOf(requests.stream().map(Shredding.Request::id).toList());
            assertThat(read.unconfirmed()).isEmpty();
            assertThat(read.tornTailBytes()).isZero();

            // The head of every append is in the audit trail; the last one is the ledger's own head.
            ShreddingLedger.Head head = read.head().orElseThrow();
            List<ShreddingLedger.Head> recorded = server.context().getBean(AuditQueries.class)
                    .search(new AuditQueries.Criteria(null, ShreddingLedger.HEAD_RECORDER, null, null, null, true, 1000))
                    .stream().map(e -> ShreddingLedger.Head.fromResource(e.resource()).orElseThrow()).toList();
            assertThat(recorded).hasSize(2 * APPROVALS).contains(head);
            assertThat(recorded).allSatisfy(h -> assertThat(read.reaches(h)).isTrue());

            // s8 review M1: a pending line whose node died before writing the outcome, applied by the
            // ledger (a restore, or keys shredding reapply). Its request must say executed from then on:
            // left pending, it could be refused or expire, and the next start would call it rolled back.
            Backups backups = server.context().getBean(Backups.class);
            String appliedPatient = BackupRestoreTest.create(server, source, token, "Patient",
                    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Concurrent\"}]}");
            Shredding.Request applied = shredding.request(new Shredding.Origin("admin-one", AuditContext.none(), null),
                    appliedPatient, "RET-2026-1100");
            appendPendingOnly(ledger, key, installation, applied);
            Backups.Reapplied reapplied = backups.applyLedger(List.of(ShreddingLedger.read(ledger)), List.of(), "operator",
                    Progress.NONE);
            assertThat(reapplied.applied()).isEqualTo(1);
            assertThat(shredding.find(applied.id()).orElseThrow().state()).isEqualTo("executed");
            assertThat(BackupRestoreTest.read(server, source, token, appliedPatient).statusCode()).isEqualTo(410);
            assertThatThrownBy(() -> shredding.refuse(new Shredding.Origin("admin-two", AuditContext.none(), null),
                    applied.id())).isInstanceOf(Shredding.Refused.class);

            // A pending line whose request is refused since (no restore applied it): the refusal does not
            // prove the approval rolled back, so no start writes rolled-back for it (the safe side).
            String refusedPatient = BackupRestoreTest.create(server, source, token, "Patient",
                    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Concurrent\"}]}");
            Shredding.Request refused = shredding.request(new Shredding.Origin("admin-one", AuditContext.none(), null),
                    refusedPatient, "RET-2026-1101");
            appendPendingOnly(ledger, key, installation, refused);
            shredding.refuse(new Shredding.Origin("admin-two", AuditContext.none(), null), refused.id());
            pendingOnly = List.of(applied.id(), refused.id());

            // s8 review H1 (c): someone cuts the ledger's last line; the node appends again under the
            // reused line number and records that head. Every recorded head is checked, not only each
            // ledger's last: the earlier head of that line number shows the cut.
            String cutPatient = BackupRestoreTest.create(server, source, token, "Patient",
                    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Concurrent\"}]}");
            shredding.approve(new Shredding.Origin("admin-two", AuditContext.none(), null), shredding.request(
                    new Shredding.Origin("admin-one", AuditContext.none(), null), cutPatient, "RET-2026-1102").id());
            ShreddingLedger.Head cutHead = ShreddingLedger.read(ledger).verify(key, installation).head().orElseThrow();
            List<String> lines = java.nio.file.Files.readAllLines(ledger);
            java.nio.file.Files.write(ledger, lines.subList(0, lines.size() - 1));
            String laterPatient = BackupRestoreTest.create(server, source, token, "Patient",
                    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Concurrent\"}]}");
            shredding.approve(new Shredding.Origin("admin-two", AuditContext.none(), null), shredding.request(
                    new Shredding.Origin("admin-one", AuditContext.none(), null), laterPatient, "RET-2026-1103").id());
            ShreddingLedger.Ledger rewritten = ShreddingLedger.read(ledger).verify(key, installation);
            assertThat(rewritten.reaches(cutHead)).as("the node reused line " + cutHead.seq()).isFalse();
            assertThatThrownBy(() -> backups.applyLedger(List.of(ShreddingLedger.read(ledger)), List.of(), "operator",
                    Progress.NONE)).isInstanceOf(BackupRefused.class)
                    .hasMessageContaining("no shredding ledger given reaches the head " + cutHead);
        }
        // The node's next start writes what its database says, and only approved or executed.
        try (ServerHandle restarted = Launcher.dev(source, CarapaceApplication::run, "--server.port=0",
                "--carapace.backup.shredding-ledger=" + ledger)) {
            SystemSecrets secrets = restarted.context().getBean(SystemSecrets.class);
            byte[] key = secrets.getOrCreate(ShreddingLedger.MAC_KEY_NAME, () -> {
                throw new AssertionError("kept in the keyring");
            });
            String installation = HexFormat.of().formatHex(secrets.getOrCreate(ShreddingLedger.INSTALLATION_NAME, () -> {
                throw new AssertionError("kept in the keyring");
            }));
            ShreddingLedger.Ledger read = ShreddingLedger.read(ledger).verify(key, installation);
            assertThat(read.lines()).extracting(ShreddingLedger.Line::state).doesNotContain(ShreddingLedger.ROLLED_BACK);
            assertThat(read.committed()).extracting(ShreddingLedger.Entry::request)
                    .as("applied by the ledger, executed in the database: committed, so every later restore applies it")
                    .contains(pendingOnly.get(0));
            assertThat(read.unconfirmed()).extracting(ShreddingLedger.Entry::request)
                    .as("refused in the database since: left pending, which a restore applies")
                    .containsExactly(pendingOnly.get(1));
        }
    }

    private static void appendPendingOnly(Path ledger, byte[] key, String installation, Shredding.Request request)
            throws java.io.IOException {
        ShreddingLedger.append(ledger, key, installation, ShreddingLedger.PENDING, new ShreddingLedger.Entry(
                request.patient(), request.id(), java.time.Instant.now(), "admin-one", "admin-two"));
    }

    private List<java.util.UUID> pendingOnly;
}
