package health.carapace.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shredding ledger's integrity (ops review findings 4 and 8, ADR 0040): every line MACed under
 * the installation's ledger key and chained to the one before it, so that a line edited, removed,
 * reordered or added without the key is refused; and only committed shreddings count, so one whose
 * approval did not commit is never applied.
 */
class ShreddingLedgerTest {

    private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final String INSTALLATION = "0123456789abcdef0123456789abcdef";

    @TempDir
    Path dir;

    private Path ledger;
    private ShreddingLedger.Entry first;
    private ShreddingLedger.Entry second;
    private ShreddingLedger.Entry neverCommitted;

    @BeforeEach
    void aLedgerOfTwoCommittedShreddingsAndOneWhoseCommitFailed() throws Exception {
        ledger = dir.resolve("ledger.jsonl");
        first = entry();
        second = entry();
        neverCommitted = entry();
        ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.PENDING, first);
        ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.COMMITTED, first);
        ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.PENDING, neverCommitted);
        ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.PENDING, second);
        ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.COMMITTED, second);
    }

    @Test
    void aWholeLedgerVerifiesAndItsCommittedAndUnconfirmedShreddingsCount() {
        ShreddingLedger.Ledger read = ShreddingLedger.read(ledger).verify(KEY, INSTALLATION);
        assertThat(read.committed()).containsExactly(first, second);
        assertThat(read.unconfirmed()).as("pending, outcome never written: applied by a restore (ADR 0046)")
                .containsExactly(neverCommitted);
        assertThat(read.lines()).extracting(ShreddingLedger.Line::seq).containsExactly(1L, 2L, 3L, 4L, 5L);
    }

    @Test
    void aRemovedLineIsRefused() throws Exception {
        List<String> lines = lines();
        lines.remove(1);
        assertRefused(lines, "line 2", "out of its chain");
        List<String> headless = lines();
        headless.remove(0);
        assertRefused(headless, "line 1", "out of its chain");
    }

    @Test
    void anEditedLineIsRefused() throws Exception {
        List<String> lines = lines();
        String other = "Patient/" + UUID.randomUUID();
        lines.set(3, lines.get(3).replace(second.compartment(), other));
        assertRefused(lines, "line 4", "does not authenticate");
    }

    @Test
    void reorderedLinesAreRefused() throws Exception {
        List<String> lines = lines();
        Collections.swap(lines, 0, 2);
        assertRefused(lines, "line 1", "out of its chain");
    }

    @Test
    void aLineAddedWithoutTheKeyIsRefused() throws Exception {
        // The forger writes a well-formed, chained line for a patient of their choosing, MACed with a key of
        // their own: a restore would destroy that patient's records if it were believed.
        byte[] forgersKey = "fedcba9876543210fedcba9876543210".getBytes(StandardCharsets.US_ASCII);
        Path forged = dir.resolve("forged.jsonl");
        Files.copy(ledger, forged);
        assertThatThrownBy(() -> ShreddingLedger.append(forged, forgersKey, INSTALLATION, ShreddingLedger.COMMITTED, entry()))
                .as("nothing is appended to a ledger that does not authenticate under the appender's key")
                .isInstanceOf(BackupRefused.class);
        List<String> lines = lines();
        String last = lines.get(lines.size() - 1);
        String previousMac = last.substring(last.lastIndexOf('\t') + 1);
        String json = "{\"seq\":6,\"installation\":\"" + INSTALLATION + "\",\"state\":\"committed\",\"entry\":{\"compartment\":\"Patient/" + UUID.randomUUID()
                + "\",\"request\":\"" + UUID.randomUUID() + "\",\"approvedAt\":\"2026-12-05T08:00:00Z\","
                + "\"requestedBy\":\"x\",\"approvedBy\":\"y\"},\"previous\":\"" + previousMac + "\"}";
        lines.add(json + "\t" + ShreddingLedger.mac(forgersKey, json.getBytes(StandardCharsets.UTF_8)));
        assertRefused(lines, "line 6", "does not authenticate");
    }

    @Test
    void aLedgerOfAnotherInstallationOrNotALedgerIsRefused() throws Exception {
        byte[] otherKey = "another-installation-ledger-key!!".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> ShreddingLedger.read(ledger).verify(otherKey, INSTALLATION)).isInstanceOf(BackupRefused.class)
                .hasMessageContaining("line 1").hasMessageContaining("does not authenticate");
        Path garbage = dir.resolve("garbage.jsonl");
        Files.writeString(garbage, "{\"compartment\":\"Patient/x\"}\n");
        assertThatThrownBy(() -> ShreddingLedger.read(garbage)).isInstanceOf(BackupRefused.class)
                .hasMessageContaining("not a ledger line");
        // Same key (a clone restored from this installation's backup shares it), another installation id.
        Path clone = dir.resolve("clone.jsonl");
        ShreddingLedger.append(clone, KEY, "fedcba9876543210fedcba9876543210", ShreddingLedger.COMMITTED, entry());
        assertThatThrownBy(() -> ShreddingLedger.read(clone).verify(KEY, INSTALLATION)).isInstanceOf(BackupRefused.class)
                .hasMessageContaining("line 1").hasMessageContaining("written by another installation");
        assertThatThrownBy(() -> ShreddingLedger.read(dir.resolve("missing.jsonl"))).isInstanceOf(BackupRefused.class)
                .hasMessageContaining("a missing ledger was lost");
    }

    @Test
    void linesCutOffAtTheEndLeaveAValidShorterChain() throws Exception {
        // What the chain cannot show, and the restore's completeness check against the restored
        // database does (BackupRestoreTest#aLedgerOlderThanTheBackupIsRefusedAndNothingStaysLoaded).
        List<String> lines = lines();
        Files.write(ledger, lines.subList(0, 2), StandardCharsets.UTF_8);
        assertThat(ShreddingLedger.read(ledger).verify(KEY, INSTALLATION).committed()).containsExactly(first);
    }

    /** ADR 0046: a pending line whose outcome is known to have rolled back is the only one a restore skips. */
    @Test
    void aShreddingCountsUnlessItsLastLineSaysItRolledBack() throws Exception {
        ShreddingLedger.Entry rolledBack = entry();
        ShreddingLedger.Entry retried = entry();
        ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.PENDING, rolledBack);
        ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.ROLLED_BACK, rolledBack);
        // rolled back once, approved again, and the node died before writing the second outcome
        ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.PENDING, retried);
        ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.ROLLED_BACK, retried);
        ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.PENDING, retried);
        ShreddingLedger.Ledger read = ShreddingLedger.read(ledger).verify(KEY, INSTALLATION);
        assertThat(read.committed()).containsExactly(first, second);
        assertThat(read.unconfirmed()).containsExactly(neverCommitted, retried);
        assertThat(read.requests()).contains(rolledBack.request());
    }

    /**
     * s7 review finding 5, s8 review H1: a crash or a full disk mid-append leaves a torn last line; it
     * blocks nothing, and it is never cut: the next append closes it with a newline and its MACed line
     * names the fragment's hash, so the chain stays verifiable and nothing leaves the file silently.
     */
    @Test
    void aTornLastLineIsIgnoredByReadersAndSkippedUnderTheNextLinesMac() throws Exception {
        ShreddingLedger.Head before = ShreddingLedger.read(ledger).verify(KEY, INSTALLATION).head().orElseThrow();
        String whole = Files.readString(ledger);
        // a pending line the crash cut off mid-write, never forced: its approval never committed
        ShreddingLedger.Entry torn = entry();
        Path scratch = dir.resolve("scratch.jsonl");
        Files.copy(ledger, scratch);
        ShreddingLedger.append(scratch, KEY, INSTALLATION, ShreddingLedger.PENDING, torn);
        String tornLine = Files.readString(scratch).substring(whole.length());
        String fragment = tornLine.substring(0, tornLine.length() / 2);
        Files.writeString(ledger, whole + fragment);

        ShreddingLedger.Ledger read = ShreddingLedger.read(ledger).verify(KEY, INSTALLATION);
        assertThat(read.tornTailBytes()).isEqualTo(fragment.length());
        assertThat(read.unconfirmed()).as("the torn line is not read").containsExactly(neverCommitted);
        assertThat(read.head()).contains(before);

        ShreddingLedger.Entry next = entry();
        ShreddingLedger.Appended appended = ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.PENDING, next);
        assertThat(appended.tornBytesSkipped()).as("reported, to be recorded").isEqualTo(fragment.length());
        assertThat(appended.head().seq()).isEqualTo(6);
        assertThat(Files.readString(ledger)).as("nothing cut: the fragment stays, closed by a newline")
                .startsWith(whole + fragment + "\n");
        ShreddingLedger.Ledger after = ShreddingLedger.read(ledger).verify(KEY, INSTALLATION);
        assertThat(after.tornTailBytes()).isZero();
        assertThat(after.skippedBytes()).isEqualTo(fragment.length() + 1);
        assertThat(after.lines()).hasSize(6);
        assertThat(after.lines().get(5).skipped()).isNotNull();
        assertThat(after.unconfirmed()).containsExactly(neverCommitted, next);

        // The skipped bytes are covered by line 6's MAC: changing one is refused, and so is taking them out.
        String written = Files.readString(ledger);
        int at = whole.length();
        Path edited = dir.resolve("edited-fragment.jsonl");
        Files.writeString(edited, written.substring(0, at + fragment.length() - 1) + "X"
                + written.substring(at + fragment.length()));
        assertThatThrownBy(() -> ShreddingLedger.read(edited)).isInstanceOf(BackupRefused.class)
                .hasMessageContaining("line 6").hasMessageContaining("not a ledger line");
        Path removed = dir.resolve("removed-fragment.jsonl");
        Files.writeString(removed, written.substring(0, at) + written.substring(at + fragment.length() + 1));
        assertThatThrownBy(() -> ShreddingLedger.read(removed)).isInstanceOf(BackupRefused.class)
                .hasMessageContaining("line 6").hasMessageContaining("not a ledger line");

        // The zeros a file system can leave after a crash are a torn tail too.
        Files.write(ledger, new byte[64], java.nio.file.StandardOpenOption.APPEND);
        assertThat(ShreddingLedger.read(ledger).verify(KEY, INSTALLATION).tornTailBytes()).isEqualTo(64);
        assertThat(ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.COMMITTED, next).tornBytesSkipped())
                .isEqualTo(64);
        ShreddingLedger.Ledger last = ShreddingLedger.read(ledger).verify(KEY, INSTALLATION);
        assertThat(last.committed()).containsExactly(first, second, next);
        assertThat(last.skippedBytes()).isEqualTo(fragment.length() + 1 + 65);
    }

    /**
     * s8 review H1: newlines replaced by spaces make complete lines look like one torn tail. Refused,
     * by readers and by the appender: nothing is cut, and nothing is appended under a reused seq.
     */
    @Test
    void newlinesTakenOutOfTheLastLinesAreRefusedNotCutAndNothingIsAppended() throws Exception {
        byte[] whole = Files.readAllBytes(ledger);
        byte[] spaced = whole.clone();
        int replaced = 0;
        for (int i = spaced.length - 1; i >= 0 && replaced < 3; i--) {
            if (spaced[i] == '\n') {
                spaced[i] = ' ';
                replaced++;
            }
        }
        Files.write(ledger, spaced);
        assertThatThrownBy(() -> ShreddingLedger.read(ledger).verify(KEY, INSTALLATION)).isInstanceOf(BackupRefused.class)
                .hasMessageContaining("newlines were taken out");
        assertThatThrownBy(() -> ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.PENDING, entry()))
                .isInstanceOf(BackupRefused.class);
        assertThat(Files.readAllBytes(ledger)).as("nothing cut, nothing appended").isEqualTo(spaced);

        // Every newline taken out of a ledger longer than one line: too long for a crash's torn write.
        for (int i = 0; i < 20; i++) {
            ShreddingLedger.append(scratchOfWhole(whole), KEY, INSTALLATION, ShreddingLedger.COMMITTED, entry());
        }
        byte[] longer = Files.readAllBytes(dir.resolve("scratch-of-whole.jsonl"));
        byte[] flat = new String(longer, StandardCharsets.UTF_8).replace('\n', ' ').getBytes(StandardCharsets.UTF_8);
        assertThat(flat.length).isGreaterThan(4096);
        Files.write(ledger, flat);
        assertThatThrownBy(() -> ShreddingLedger.read(ledger)).isInstanceOf(BackupRefused.class)
                .hasMessageContaining("more than one line");
        assertThatThrownBy(() -> ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.PENDING, entry()))
                .isInstanceOf(BackupRefused.class);
        assertThat(Files.readAllBytes(ledger)).as("not truncated to nothing").isEqualTo(flat);
    }

    /** A last line whose write got every byte but its newline to disk counts (the safe side), and the next append ends it. */
    @Test
    void aLastLineLackingOnlyItsNewlineCountsAndTheNextAppendEndsIt() throws Exception {
        byte[] whole = Files.readAllBytes(ledger);
        Files.write(ledger, java.util.Arrays.copyOf(whole, whole.length - 1));
        ShreddingLedger.Ledger read = ShreddingLedger.read(ledger).verify(KEY, INSTALLATION);
        assertThat(read.lines()).hasSize(5);
        assertThat(read.tornTailBytes()).isZero();
        assertThat(read.committed()).containsExactly(first, second);
        ShreddingLedger.Appended appended = ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.COMMITTED,
                neverCommitted);
        assertThat(appended.head().seq()).isEqualTo(6);
        assertThat(appended.tornBytesSkipped()).isZero();
        assertThat(ShreddingLedger.read(ledger).verify(KEY, INSTALLATION).committed())
                .containsExactly(first, second, neverCommitted);
    }

    /**
     * s8 review M3: the ledger can live on append-only storage ({@code chattr +a}): the appender opens it
     * for appending only and never cuts it, a torn tail included. Needs CAP_LINUX_IMMUTABLE (root) and a
     * file system with the flag; skipped where neither is available.
     */
    @Test
    void appendsWorkOnAnAppendOnlyFileTornTailIncluded() throws Exception {
        Files.write(ledger, "{\"seq\":6,\"torn".getBytes(StandardCharsets.US_ASCII), java.nio.file.StandardOpenOption.APPEND);
        org.junit.jupiter.api.Assumptions.assumeTrue(chattr("+a", ledger), "chattr +a is not available here");
        try {
            assertThatThrownBy(() -> Files.write(ledger, new byte[0], java.nio.file.StandardOpenOption.TRUNCATE_EXISTING))
                    .as("the flag holds").isInstanceOf(java.io.IOException.class);
            ShreddingLedger.Entry next = entry();
            ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.PENDING, next);
            ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.COMMITTED, next);
            ShreddingLedger.Ledger read = ShreddingLedger.read(ledger).verify(KEY, INSTALLATION);
            assertThat(read.lines()).hasSize(7);
            assertThat(read.committed()).containsExactly(first, second, next);
        } finally {
            chattr("-a", ledger);
        }
    }

    private Path scratchOfWhole(byte[] whole) throws Exception {
        Path scratch = dir.resolve("scratch-of-whole.jsonl");
        if (!Files.exists(scratch)) {
            Files.write(scratch, whole);
        }
        return scratch;
    }

    private static boolean chattr(String flag, Path file) throws Exception {
        try {
            Process p = new ProcessBuilder("chattr", flag, file.toString()).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (java.io.IOException noChattr) {
            return false;
        }
    }

    @Test
    void aTornLineInTheMiddleIsTamperingAndIsRefused() throws Exception {
        List<String> lines = lines();
        lines.set(2, lines.get(2).substring(0, lines.get(2).length() / 2));
        assertRefused(lines, "line 3", "not a ledger line");
        List<String> zeros = lines();
        zeros.add(2, "\0\0\0\0");
        assertRefused(zeros, "line 3", "not a ledger line");
    }

    /** s7 review finding 4: approvals on one node append at once; each waits its turn, the chain stays whole. */
    @Test
    void appendsFromManyThreadsAtOnceKeepTheChainWhole() throws Exception {
        int threads = 8;
        int each = 10;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.Future<?>> done = new ArrayList<>();
        List<ShreddingLedger.Entry> written = Collections.synchronizedList(new ArrayList<>());
        try {
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < each; i++) {
                        ShreddingLedger.Entry e = entry();
                        ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.PENDING, e);
                        ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.COMMITTED, e);
                        written.add(e);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (var f : done) {
                f.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        ShreddingLedger.Ledger read = ShreddingLedger.read(ledger).verify(KEY, INSTALLATION);
        assertThat(read.lines()).hasSize(5 + 2 * threads * each);
        assertThat(read.committed()).hasSize(2 + threads * each).containsAll(written);
    }

    @Test
    void aLineTooLongForReadersIsRefusedBeforeAnythingIsWritten() throws Exception {
        byte[] before = Files.readAllBytes(ledger);
        ShreddingLedger.Entry longNames = new ShreddingLedger.Entry("Patient/" + UUID.randomUUID(), UUID.randomUUID(),
                Instant.parse("2026-12-05T08:00:00Z"), "a".repeat(5000), "admin-two");
        assertThatThrownBy(() -> ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.PENDING, longNames))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exceed");
        ShreddingLedger.Entry undecided = new ShreddingLedger.Entry("Patient/" + UUID.randomUUID(), UUID.randomUUID(),
                null, "admin-one", null);
        assertThatThrownBy(() -> ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.ROLLED_BACK, undecided))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(Files.readAllBytes(ledger)).as("nothing written: the ledger stays usable").isEqualTo(before);
        ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.PENDING, entry());
        assertThat(ShreddingLedger.read(ledger).verify(KEY, INSTALLATION).lines()).hasSize(6);
    }

    /** The head the audit trail records at every append: another chain, or a shorter one, does not reach it. */
    @Test
    void aLedgerReachesTheHeadsOfItsOwnChainOnly() throws Exception {
        ShreddingLedger.Head head = ShreddingLedger.read(ledger).verify(KEY, INSTALLATION).head().orElseThrow();
        assertThat(head.seq()).isEqualTo(5);
        assertThat(ShreddingLedger.Head.parse(head.toString())).contains(head);
        assertThat(ShreddingLedger.Head.fromResource(head.resource())).contains(head);
        assertThat(ShreddingLedger.Head.parse("Zq<script>:1:" + "0".repeat(64))).isEmpty();
        Path older = dir.resolve("older.jsonl");
        Files.write(older, lines().subList(0, 3), StandardCharsets.UTF_8);
        assertThat(ShreddingLedger.read(older).verify(KEY, INSTALLATION).reaches(head)).as("cut short").isFalse();
        Path other = dir.resolve("other.jsonl");
        for (int i = 0; i < 5; i++) {
            ShreddingLedger.append(other, KEY, INSTALLATION, ShreddingLedger.COMMITTED, entry());
        }
        assertThat(ShreddingLedger.read(other).verify(KEY, INSTALLATION).reaches(head)).as("another chain").isFalse();
        ShreddingLedger.append(ledger, KEY, INSTALLATION, ShreddingLedger.COMMITTED, neverCommitted);
        assertThat(ShreddingLedger.read(ledger).verify(KEY, INSTALLATION).reaches(head)).as("grown since").isTrue();
    }

    private List<String> lines() throws Exception {
        return new ArrayList<>(Files.readAllLines(ledger, StandardCharsets.UTF_8));
    }

    private void assertRefused(List<String> lines, String line, String problem) throws Exception {
        Path altered = dir.resolve("altered-" + UUID.randomUUID() + ".jsonl");
        Files.write(altered, lines, StandardCharsets.UTF_8);
        assertThatThrownBy(() -> ShreddingLedger.read(altered).verify(KEY, INSTALLATION)).isInstanceOf(BackupRefused.class)
                .hasMessageContaining(line).hasMessageContaining(problem);
    }

    private static ShreddingLedger.Entry entry() {
        return new ShreddingLedger.Entry("Patient/" + UUID.randomUUID(), UUID.randomUUID(),
                Instant.parse("2026-12-05T08:00:00.123456Z"), "admin-one", "admin-two");
    }
}
