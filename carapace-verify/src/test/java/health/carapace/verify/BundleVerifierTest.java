package health.carapace.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/**
 * A bundle of 1,000 synthetic events verifies; each way of tampering with it is caught, at the
 * right file and line.
 */
class BundleVerifierTest {

    private static final int EVENTS = 1000;
    private static final List<Long> HEAD_SIZES = List.of(100L, 250L, 500L, 750L, 1000L);

    @TempDir
    Path temp;

    private final Ed25519TreeHeadSigner signer = Ed25519TreeHeadSigner.generate();
    private final TreeHeadVerifier trusted = signer.verifier();
    private SyntheticBundle log;
    private Path bundle;

    @BeforeEach
    void writeBundle() throws Exception {
        log = SyntheticBundle.log(EVENTS, HEAD_SIZES, signer);
        bundle = log.write(temp.resolve("bundle"), trusted, 0, EVENTS);
    }

    @Test
    void aFaithfulBundleVerifiesAndRebuildsEveryRoot() throws Exception {
        BundleReport report = BundleVerifier.trusting(trusted).verify(bundle);

        assertThat(report.keyId()).isEqualTo(signer.keyId());
        assertThat(report.treeHeads()).isEqualTo(5);
        assertThat(report.smallestTreeSize()).isEqualTo(100);
        assertThat(report.largestTreeSize()).isEqualTo(1000);
        assertThat(report.events()).isEqualTo(EVENTS);
        assertThat(report.rootsRebuilt()).isEqualTo(5);
        assertThat(lines("events.jsonl")).hasSize(EVENTS);
        assertThat(lines("consistency.jsonl")).hasSize(4);
    }

    @Test
    void eventLinesCarryTheExactLeafBytes() throws Exception {
        // The verifier hashes these bytes as they are; it never re-serialises the event.
        String line = lines("events.jsonl").get(42);
        ObjectNode node = (ObjectNode) BundleFormat.JSON.readTree(line);
        assertThat(Base64.getDecoder().decode(node.get("leaf").stringValue())).isEqualTo(SyntheticBundle.event(42));
    }

    @Test
    void aZipOfTheBundleVerifies() throws Exception {
        Path zip = temp.resolve("bundle.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            try (var files = Files.list(bundle)) {
                for (Path file : files.sorted().toList()) {
                    out.putNextEntry(new ZipEntry("audit-export/" + file.getFileName()));
                    Files.copy(file, out);
                    out.closeEntry();
                }
            }
        }
        assertThat(BundleVerifier.trusting(trusted).verify(zip).events()).isEqualTo(EVENTS);
    }

    @Test
    void aRangeInTheMiddleOfTheLogVerifiesThroughProofsAlone() throws Exception {
        Path partial = log.write(temp.resolve("partial"), trusted, 300, 700);

        BundleReport report = BundleVerifier.trusting(trusted).verify(partial);

        assertThat(report.firstLeafIndex()).isEqualTo(300);
        assertThat(report.endLeafIndex()).isEqualTo(700);
        assertThat(report.rootsRebuilt()).isZero();
    }

    @Test
    void anEditedEventByteIsDetected() throws Exception {
        editLine("events.jsonl", 500, line -> {
            ObjectNode node = (ObjectNode) BundleFormat.JSON.readTree(line);
            byte[] leaf = Base64.getDecoder().decode(node.get("leaf").stringValue());
            leaf[leaf.length / 2] ^= 1;
            node.put("leaf", Base64.getEncoder().encodeToString(leaf));
            return BundleFormat.JSON.writeValueAsString(node);
        });

        assertFails(BundleFormat.EVENTS, 501, "leaf 500 is not the leaf that the signed tree head of size 750 holds");
    }

    @Test
    void aDeletedEventIsDetected() throws Exception {
        deleteLine("events.jsonl", 500);
        deleteLine("proofs.jsonl", 500);

        assertFails(BundleFormat.EVENTS, 501, "leaf index 501 where 500 was expected: event 500 is missing");
    }

    @Test
    void aDeletedLastEventIsDetected() throws Exception {
        deleteLine("events.jsonl", EVENTS - 1);
        deleteLine("proofs.jsonl", EVENTS - 1);

        assertFails(BundleFormat.EVENTS, EVENTS, "event 999 is missing");
    }

    @Test
    void twoSwappedEventsAreDetected() throws Exception {
        swapLines("events.jsonl", 100, 101);

        assertFails(BundleFormat.EVENTS, 101, "leaf index 101 where 100 was expected");
    }

    @Test
    void twoEventsSwappedUnderTheirIndicesAreDetected() throws Exception {
        // The rows' contents exchanged, their positions kept: the leaf hashes no longer match.
        List<String> events = lines("events.jsonl");
        String leaf100 = ((ObjectNode) BundleFormat.JSON.readTree(events.get(100))).get("leaf").stringValue();
        String leaf101 = ((ObjectNode) BundleFormat.JSON.readTree(events.get(101))).get("leaf").stringValue();
        editLine("events.jsonl", 100, line -> line.replace(leaf100, leaf101));
        editLine("events.jsonl", 101, line -> line.replace(leaf101, leaf100));

        assertFails(BundleFormat.EVENTS, 101, "leaf 100 is not the leaf");
    }

    @Test
    void aTruncatedProofIsDetected() throws Exception {
        editLine("proofs.jsonl", 320, line -> {
            ObjectNode node = (ObjectNode) BundleFormat.JSON.readTree(line);
            var path = node.withArray("audit_path");
            path.remove(path.size() - 1);
            return BundleFormat.JSON.writeValueAsString(node);
        });

        assertFails(BundleFormat.EVENTS, 321, "proofs.jsonl line 321");
        assertFails(BundleFormat.EVENTS, 321, "too few");
    }

    @Test
    void aMissingProofFileLineIsDetected() throws Exception {
        deleteLine("proofs.jsonl", EVENTS - 1);

        assertFails(BundleFormat.PROOFS, EVENTS, "ends before the proof for leaf 999");
    }

    @Test
    void aTreeHeadReSignedWithAnotherKeyIsDetected() throws Exception {
        Ed25519TreeHeadSigner forger = Ed25519TreeHeadSigner.generate();
        TreeHead original = log.heads.get(2).head();
        SignedTreeHead forged = forger.sign(TreeHead.of(original.treeSize(), original.rootHash(),
                original.timestampMillis(), forger.keyId()));
        editLine("tree-heads.jsonl", 2, line -> BundleFormat.treeHeadLine(forged));

        assertFails(BundleFormat.TREE_HEADS, 3, "not the trusted key");

        // The same forgery keeping the trusted key's id fails on the signature.
        SignedTreeHead claimingTrustedKey = SignedTreeHead.of(original, forged.signature());
        editLine("tree-heads.jsonl", 2, line -> BundleFormat.treeHeadLine(claimingTrustedKey));

        assertFails(BundleFormat.TREE_HEADS, 3, "signature does not verify");
    }

    @Test
    void aBundleRewrittenAndReSignedByAnotherKeyFailsAgainstTheTrustedKey() throws Exception {
        // Someone with write access to the export replaces everything, key included.
        Ed25519TreeHeadSigner forger = Ed25519TreeHeadSigner.generate();
        Path forged = SyntheticBundle.log(EVENTS, HEAD_SIZES, forger).write(temp.resolve("forged"), forger.verifier(), 0,
                EVENTS);

        // Consistent with itself, so the bundle's own key accepts it: that is all it can prove.
        assertThat(BundleVerifier.trusting(BundleVerifier.readBundlePublicKey(forged)).verify(forged).events())
                .isEqualTo(EVENTS);
        assertThatThrownBy(() -> BundleVerifier.trusting(trusted).verify(forged))
                .isInstanceOfSatisfying(BundleVerificationException.class,
                        e -> assertThat(e.file()).isEqualTo(BundleFormat.PUBLIC_KEY));

        // Even with the genuine public-key.pem put back, no head verifies.
        Files.writeString(forged.resolve("public-key.pem"), trusted.toPem());
        assertThatThrownBy(() -> BundleVerifier.trusting(trusted).verify(forged))
                .isInstanceOfSatisfying(BundleVerificationException.class, e -> {
                    assertThat(e.file()).isEqualTo(BundleFormat.TREE_HEADS);
                    assertThat(e.line()).isEqualTo(1);
                });
    }

    @Test
    void aTreeHeadWhoseSizeWentBackwardsIsDetected() throws Exception {
        // Validly signed (a compromised or buggy sealer), but the log cannot shrink.
        SignedTreeHead smaller = signer.sign(TreeHead.of(600, log.tree.rootAt(600),
                log.heads.get(4).head().timestampMillis(), signer.keyId()));
        editLine("tree-heads.jsonl", 4, line -> BundleFormat.treeHeadLine(smaller));

        assertFails(BundleFormat.TREE_HEADS, 5, "tree size 600 is smaller than the previous head's 750");
    }

    @Test
    void aTreeHeadWhoseTimeWentBackwardsIsDetected() throws Exception {
        TreeHead original = log.heads.get(3).head();
        SignedTreeHead earlier = signer.sign(TreeHead.of(original.treeSize(), original.rootHash(),
                SyntheticBundle.FIRST_TIMESTAMP, signer.keyId()));
        editLine("tree-heads.jsonl", 3, line -> BundleFormat.treeHeadLine(earlier));

        assertFails(BundleFormat.TREE_HEADS, 4, "is earlier than the previous head's");
    }

    @Test
    void aLaterHeadOverRewrittenHistoryIsInconsistent() throws Exception {
        // History rewritten at leaf 50 after the first heads were published, and the new tree
        // signed with the genuine key: only consistency with the earlier heads catches it.
        List<byte[]> rewritten = SyntheticBundle.events(EVENTS);
        rewritten.set(50, "{\"action\":\"nothing to see\"}".getBytes(StandardCharsets.UTF_8));
        MerkleTree forgedTree = MerkleTree.ofLeaves(rewritten);
        TreeHead original = log.heads.get(4).head();
        SignedTreeHead forgedHead = signer.sign(TreeHead.of(original.treeSize(), forgedTree.root(),
                original.timestampMillis(), signer.keyId()));
        editLine("tree-heads.jsonl", 4, line -> BundleFormat.treeHeadLine(forgedHead));
        editLine("consistency.jsonl", 3, line -> BundleFormat.consistencyLine(forgedTree.consistencyProof(750, 1000)));

        assertFails(BundleFormat.CONSISTENCY, 4, "tree-heads.jsonl lines 4 and 5 are not consistent");
    }

    @Test
    void aConsistencyProofForOtherSizesIsDetected() throws Exception {
        editLine("consistency.jsonl", 1, line -> BundleFormat.consistencyLine(log.tree.consistencyProof(250, 750)));

        assertFails(BundleFormat.CONSISTENCY, 2, "proves tree size 250 to 750");
    }

    @Test
    void aMissingConsistencyProofIsDetected() throws Exception {
        deleteLine("consistency.jsonl", 3);

        assertFails(BundleFormat.CONSISTENCY, 4, "one for each of the 4 pairs");
    }

    @Test
    void aProofAgainstAnUnsignedSizeIsDetected() throws Exception {
        editLine("proofs.jsonl", 10, line -> BundleFormat.proofLine(log.tree.inclusionProof(10, 600)));

        assertFails(BundleFormat.PROOFS, 11, "tree size 600 is not the size of a signed tree head");
    }

    @Test
    void aRangeBeyondTheLatestHeadIsDetected() throws Exception {
        Files.writeString(bundle.resolve("manifest.json"), BundleFormat.manifestJson(0, 1001));

        assertFails(BundleFormat.MANIFEST, 0, "covers only 1000 leaves");
    }

    @Test
    void malformedLinesAreReportedWhereTheyAre() throws Exception {
        List<String> original = lines("events.jsonl");

        editLine("events.jsonl", 7, line -> line.substring(0, line.length() - 1));
        assertFails(BundleFormat.EVENTS, 8, "not valid JSON");

        writeLines("events.jsonl", original);
        editLine("events.jsonl", 7, line -> line.replace("{", "{\"user\":\"x\","));
        assertFails(BundleFormat.EVENTS, 8, "unexpected field user");

        writeLines("events.jsonl", original);
        editLine("events.jsonl", 7, line -> line.replace("\"leaf_index\":7", "\"leaf_index\":7,\"leaf_index\":7"));
        assertFails(BundleFormat.EVENTS, 8, "not valid JSON");

        writeLines("events.jsonl", original);
        editLine("events.jsonl", 7, line -> line.replace("\"leaf_index\":7", "\"leaf_index\":7.0"));
        assertFails(BundleFormat.EVENTS, 8, "leaf_index is not a whole number");

        writeLines("events.jsonl", original);
        editLine("events.jsonl", 7, line -> "");
        assertFails(BundleFormat.EVENTS, 8, "empty line");

        writeLines("events.jsonl", original);
        Files.delete(bundle.resolve("proofs.jsonl"));
        assertFails(BundleFormat.PROOFS, 0, "missing from the bundle");
    }

    @Test
    void bytesThatAreNotAsciiAreRefused() throws Exception {
        byte[] bytes = Files.readAllBytes(bundle.resolve("tree-heads.jsonl"));
        try (OutputStream out = Files.newOutputStream(bundle.resolve("tree-heads.jsonl"))) {
            out.write(bytes);
            out.write(new byte[] {(byte) 0xc3, (byte) 0x28, '\n'});
        }
        assertFails(BundleFormat.TREE_HEADS, 6, "not ASCII");
    }

    @Test
    void theFirstFailureInTheFilesIsReportedHoweverTheWorkIsSplit() throws Exception {
        // Large enough for several batches of lines to be checked at once.
        bundle = SyntheticBundle.log(5000, List.of(1000L, 5000L), signer)
                .write(temp.resolve("large"), trusted, 0, 5000);
        List<String> events = lines("events.jsonl");
        List<String> proofs = lines("proofs.jsonl");
        deleteLine("events.jsonl", 4000);
        deleteLine("proofs.jsonl", 4000);
        editLine("events.jsonl", 3000, line -> line.replace("\"leaf\":\"", "\"leaf\":\"\u00e9"));
        editLine("proofs.jsonl", 2100, line -> line.substring(0, line.lastIndexOf(',')) + "]}");

        assertFails(BundleFormat.EVENTS, 2101, "too few");
        writeLines("proofs.jsonl", proofs);
        deleteLine("proofs.jsonl", 4000);
        assertFails(BundleFormat.EVENTS, 3001, "not ASCII");
        editLine("events.jsonl", 3000, line -> events.get(3000));
        assertFails(BundleFormat.EVENTS, 4001, "event 4000 is missing");
    }

    private void assertFails(String file, long line, String message) {
        ThrowingCallable verify = () -> BundleVerifier.trusting(trusted).verify(bundle);
        assertThatThrownBy(verify).isInstanceOfSatisfying(BundleVerificationException.class, e -> {
            assertThat(e.file()).isEqualTo(file);
            assertThat(e.line()).isEqualTo(line);
            assertThat(e.getMessage()).contains(message);
        });
    }

    private List<String> lines(String file) throws IOException {
        return Files.readAllLines(bundle.resolve(file), StandardCharsets.UTF_8);
    }

    private void writeLines(String file, List<String> lines) throws IOException {
        Files.write(bundle.resolve(file), lines, StandardCharsets.UTF_8);
    }

    /** Replaces line {@code index} (from 0) of {@code file}. */
    private void editLine(String file, int index, ThrowingFunction edit) throws Exception {
        List<String> lines = new ArrayList<>(lines(file));
        lines.set(index, edit.apply(lines.get(index)));
        writeLines(file, lines);
    }

    private void deleteLine(String file, int index) throws IOException {
        List<String> lines = new ArrayList<>(lines(file));
        lines.remove(index);
        writeLines(file, lines);
    }

    private void swapLines(String file, int first, int second) throws IOException {
        List<String> lines = new ArrayList<>(lines(file));
        Collections.swap(lines, first, second);
        writeLines(file, lines);
    }

    @FunctionalInterface
    private interface ThrowingFunction {
        String apply(String line) throws GeneralSecurityException;
    }
}
