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
        ShreddingLedger.append(ledger, KEY, ShreddingLedger.PENDING, first);
        ShreddingLedger.append(ledger, KEY, ShreddingLedger.COMMITTED, first);
        ShreddingLedger.append(ledger, KEY, ShreddingLedger.PENDING, neverCommitted);
        ShreddingLedger.append(ledger, KEY, ShreddingLedger.PENDING, second);
        ShreddingLedger.append(ledger, KEY, ShreddingLedger.COMMITTED, second);
    }

    @Test
    void aWholeLedgerVerifiesAndOnlyItsCommittedShreddingsCount() {
        ShreddingLedger.Ledger read = ShreddingLedger.read(ledger).verify(KEY);
        assertThat(read.committed()).containsExactly(first, second);
        assertThat(read.unconfirmed()).as("pending, never committed: not applied").containsExactly(neverCommitted);
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
        assertThatThrownBy(() -> ShreddingLedger.append(forged, forgersKey, ShreddingLedger.COMMITTED, entry()))
                .as("nothing is appended to a ledger that does not authenticate under the appender's key")
                .isInstanceOf(BackupRefused.class);
        List<String> lines = lines();
        String last = lines.get(lines.size() - 1);
        String previousMac = last.substring(last.lastIndexOf('\t') + 1);
        String json = "{\"seq\":6,\"state\":\"committed\",\"entry\":{\"compartment\":\"Patient/" + UUID.randomUUID()
                + "\",\"request\":\"" + UUID.randomUUID() + "\",\"approvedAt\":\"2026-12-05T08:00:00Z\","
                + "\"requestedBy\":\"x\",\"approvedBy\":\"y\"},\"previous\":\"" + previousMac + "\"}";
        lines.add(json + "\t" + ShreddingLedger.mac(forgersKey, json.getBytes(StandardCharsets.UTF_8)));
        assertRefused(lines, "line 6", "does not authenticate");
    }

    @Test
    void aLedgerOfAnotherInstallationOrNotALedgerIsRefused() throws Exception {
        byte[] otherKey = "another-installation-ledger-key!!".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> ShreddingLedger.read(ledger).verify(otherKey)).isInstanceOf(BackupRefused.class)
                .hasMessageContaining("line 1").hasMessageContaining("does not authenticate");
        Path garbage = dir.resolve("garbage.jsonl");
        Files.writeString(garbage, "{\"compartment\":\"Patient/x\"}\n");
        assertThatThrownBy(() -> ShreddingLedger.read(garbage)).isInstanceOf(BackupRefused.class)
                .hasMessageContaining("not a ledger line");
        Path cut = dir.resolve("cut.jsonl");
        String whole = Files.readString(ledger);
        Files.writeString(cut, whole.substring(0, whole.length() - 10));
        assertThatThrownBy(() -> ShreddingLedger.read(cut)).isInstanceOf(BackupRefused.class)
                .hasMessageContaining("partial line");
        assertThatThrownBy(() -> ShreddingLedger.read(dir.resolve("missing.jsonl"))).isInstanceOf(BackupRefused.class)
                .hasMessageContaining("a missing ledger was lost");
    }

    @Test
    void linesCutOffAtTheEndLeaveAValidShorterChain() throws Exception {
        // What the chain cannot show, and the restore's completeness check against the restored
        // database does (BackupRestoreTest#aLedgerOlderThanTheBackupIsRefusedAndNothingStaysLoaded).
        List<String> lines = lines();
        Files.write(ledger, lines.subList(0, 2), StandardCharsets.UTF_8);
        assertThat(ShreddingLedger.read(ledger).verify(KEY).committed()).containsExactly(first);
    }

    private List<String> lines() throws Exception {
        return new ArrayList<>(Files.readAllLines(ledger, StandardCharsets.UTF_8));
    }

    private void assertRefused(List<String> lines, String line, String problem) throws Exception {
        Path altered = dir.resolve("altered-" + UUID.randomUUID() + ".jsonl");
        Files.write(altered, lines, StandardCharsets.UTF_8);
        assertThatThrownBy(() -> ShreddingLedger.read(altered).verify(KEY)).isInstanceOf(BackupRefused.class)
                .hasMessageContaining(line).hasMessageContaining(problem);
    }

    private static ShreddingLedger.Entry entry() {
        return new ShreddingLedger.Entry("Patient/" + UUID.randomUUID(), UUID.randomUUID(),
                Instant.parse("2026-12-05T08:00:00.123456Z"), "admin-one", "admin-two");
    }
}
