package health.carapace.backup;

import static org.assertj.core.api.Assertions.assertThat;

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
 * audit trail records the ledger's last head. At the node's next start, a pending line whose request was
 * refused since is rolled back, and one still pending in the database is left as it is.
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

            // ADR 0046: two pending lines whose node died before writing the outcome. One request was since
            // refused (it can never be approved: rolled back), the other is still pending (left as it is).
            String refusedPatient = BackupRestoreTest.create(server, source, token, "Patient",
                    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Concurrent\"}]}");
            Shredding.Request refused = shredding.request(new Shredding.Origin("admin-one", AuditContext.none(), null),
                    refusedPatient, "RET-2026-1100");
            String waitingPatient = BackupRestoreTest.create(server, source, token, "Patient",
                    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Concurrent\"}]}");
            Shredding.Request waiting = shredding.request(new Shredding.Origin("admin-one", AuditContext.none(), null),
                    waitingPatient, "RET-2026-1101");
            for (Shredding.Request r : List.of(refused, waiting)) {
                ShreddingLedger.append(ledger, key, installation, ShreddingLedger.PENDING, new ShreddingLedger.Entry(
                        "Patient/" + r.patient().replace("Patient/", ""), r.id(), java.time.Instant.now(), "admin-one",
                        "admin-two"));
            }
            shredding.refuse(new Shredding.Origin("admin-two", AuditContext.none(), null), refused.id());
            pendingOnly = List.of(refused.id(), waiting.id());
        }
        // The node's next start writes what its database says.
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
            List<ShreddingLedger.Line> lines = read.lines();
            assertThat(lines).hasSize(2 * APPROVALS + 3);
            assertThat(lines.get(lines.size() - 1).state()).isEqualTo(ShreddingLedger.ROLLED_BACK);
            assertThat(lines.get(lines.size() - 1).entry().request()).isEqualTo(pendingOnly.get(0));
            assertThat(read.unconfirmed()).extracting(ShreddingLedger.Entry::request)
                    .as("still pending in the database: another node may be approving it; a restore applies it")
                    .containsExactly(pendingOnly.get(1));
        }
    }

    private List<java.util.UUID> pendingOnly;
}
