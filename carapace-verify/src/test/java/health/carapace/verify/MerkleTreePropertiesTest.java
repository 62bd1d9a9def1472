package health.carapace.verify;

import static health.carapace.verify.PublishedMerkleVectorsTest.assertConsistencyRejected;
import static health.carapace.verify.PublishedMerkleVectorsTest.assertInclusionRejected;
import static health.carapace.verify.PublishedMerkleVectorsTest.flipBit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeout;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Properties over many tree sizes: the iterative code agrees with the RFC's recursive
 * definitions, every honest proof verifies and tampered ones do not. The random choices come
 * from a fixed seed, so a failure reproduces.
 */
class MerkleTreePropertiesTest {

    private static final long SEED = 6962;

    @Test
    void accumulatorAndTreeAgreeWithTheRfcDefinitionAtEverySizeUpTo300() {
        List<MerkleHash> leaves = leafHashes(300, new Random(SEED));
        MerkleTree tree = MerkleTree.ofLeafHashes(leaves);
        MerkleAccumulator accumulator = new MerkleAccumulator();
        for (int n = 0; n <= leaves.size(); n++) {
            MerkleHash expected = ReferenceMerkle.mth(leaves.subList(0, n));
            assertThat(accumulator.root()).as("accumulator at size %d", n).isEqualTo(expected);
            assertThat(tree.rootAt(n)).as("tree at size %d", n).isEqualTo(expected);
            if (n < leaves.size()) {
                accumulator.appendLeafHash(leaves.get(n));
            }
        }
    }

    @Test
    void proofsAgreeWithTheRfcDefinitionForEveryLeafAndPairUpTo100() {
        List<MerkleHash> leaves = leafHashes(100, new Random(SEED));
        MerkleTree tree = MerkleTree.ofLeafHashes(leaves);
        for (int n = 1; n <= leaves.size(); n++) {
            List<MerkleHash> prefix = leaves.subList(0, n);
            for (int m = 0; m < n; m++) {
                assertThat(tree.inclusionProof(m, n).auditPath()).as("PATH(%d, D[%d])", m, n)
                        .isEqualTo(ReferenceMerkle.path(m, prefix));
            }
            for (int m = 1; m < n; m++) {
                assertThat(tree.consistencyProof(m, n).path()).as("PROOF(%d, D[%d])", m, n)
                        .isEqualTo(ReferenceMerkle.proof(m, prefix));
            }
        }
    }

    @Test
    void everyInclusionProofVerifiesAndTamperedOnesDoNotForRandomSizes() throws VerificationException {
        Random random = new Random(SEED);
        List<MerkleHash> leaves = leafHashes(4096, random);
        MerkleTree tree = MerkleTree.ofLeafHashes(leaves);
        for (int n : sizes(random, 4096)) {
            MerkleHash root = tree.rootAt(n);
            for (int m = 0; m < n; m++) {
                tree.inclusionProof(m, n).verify(leaves.get(m), root);
            }
            for (int sample = 0; sample < 16; sample++) {
                int m = random.nextInt(n);
                InclusionProof proof = tree.inclusionProof(m, n);
                List<MerkleHash> path = proof.auditPath();
                MerkleHash leaf = leaves.get(m);
                String at = "leaf " + m + " of " + n;

                assertInclusionRejected(at + ", other leaf", () -> proof,
                        MerkleHash.ofLeaf(("not leaf " + m).getBytes()), root);
                assertInclusionRejected(at + ", other root", () -> proof, leaf, flipBit(List.of(root), 0, random.nextInt(8)).get(0));
                assertInclusionRejected(at + ", next index", () -> InclusionProof.of(m + 1, n, path), leaf, root);
                assertInclusionRejected(at + ", previous index", () -> InclusionProof.of(m - 1, n, path), leaf, root);
                // (Not "same path, larger size": for a leaf whose siblings are all on one side the
                // RFC computation does not depend on the size, which is why a proof is always
                // checked against the root signed for that size.)
                if (n > 1) {
                    assertInclusionRejected(at + ", root of the previous size", () -> proof, leaf, tree.rootAt(n - 1));
                }
                if (!path.isEmpty()) {
                    int element = random.nextInt(path.size());
                    assertInclusionRejected(at + ", path[" + element + "] changed",
                            () -> InclusionProof.of(m, n, flipBit(path, element, random.nextInt(8))), leaf, root);
                    assertInclusionRejected(at + ", path truncated",
                            () -> InclusionProof.of(m, n, path.subList(0, path.size() - 1)), leaf, root);
                }
            }
        }
    }

    @Test
    void consistencyBetweenEveryPairOfSizesVerifiesAndTamperedProofsDoNot() throws VerificationException {
        Random random = new Random(SEED);
        List<MerkleHash> leaves = leafHashes(3000, random);
        MerkleTree tree = MerkleTree.ofLeafHashes(leaves);
        // Every pair m <= n up to 130, and every m for a few large n.
        List<Integer> newSizes = new ArrayList<>();
        for (int n = 0; n <= 130; n++) {
            newSizes.add(n);
        }
        for (int i = 0; i < 4; i++) {
            newSizes.add(131 + random.nextInt(3000 - 131));
        }
        newSizes.add(2048);
        newSizes.add(3000);
        for (int n : newSizes) {
            MerkleHash newRoot = tree.rootAt(n);
            for (int oldSize = 0; oldSize <= n; oldSize++) {
                int m = oldSize;
                MerkleHash oldRoot = tree.rootAt(m);
                ConsistencyProof proof = tree.consistencyProof(m, n);
                proof.verify(oldRoot, newRoot);
                if (m == 0 || m == n || random.nextInt(8) != 0) {
                    continue;
                }
                List<MerkleHash> path = proof.path();
                int element = random.nextInt(path.size());
                String at = m + " to " + n;
                assertConsistencyRejected(at + ", proof[" + element + "] changed",
                        () -> ConsistencyProof.of(m, n, flipBit(path, element, random.nextInt(8))), oldRoot, newRoot);
                assertConsistencyRejected(at + ", other old root", () -> proof, tree.rootAt(m - 1), newRoot);
                assertConsistencyRejected(at + ", other new root", () -> proof, oldRoot,
                        flipBit(List.of(newRoot), 0, random.nextInt(8)).get(0));
                assertConsistencyRejected(at + ", proof truncated",
                        () -> ConsistencyProof.of(m, n, path.subList(0, path.size() - 1)), oldRoot, newRoot);
            }
        }
    }

    @Test
    void aRewrittenLeafBreaksConsistencyWithEveryLaterSize() throws VerificationException {
        // The attack the audit trail exists to catch: history edited after a head was signed.
        List<MerkleHash> leaves = leafHashes(500, new Random(SEED));
        MerkleTree honest = MerkleTree.ofLeafHashes(leaves);
        List<MerkleHash> rewritten = new ArrayList<>(leaves);
        rewritten.set(123, MerkleHash.ofLeaf("rewritten".getBytes()));
        MerkleTree forged = MerkleTree.ofLeafHashes(rewritten);
        for (int n = 200; n <= 500; n += 37) {
            ConsistencyProof proof = forged.consistencyProof(150, n);
            int size = n;
            assertThatThrownBy(() -> proof.verify(honest.rootAt(150), forged.rootAt(size)))
                    .isInstanceOf(VerificationException.class);
        }
    }

    @Test
    void restoredAccumulatorContinuesWhereTheOriginalStopped() {
        List<MerkleHash> leaves = leafHashes(1000, new Random(SEED));
        for (int stop : new int[] {0, 1, 2, 3, 7, 8, 255, 256, 257, 999}) {
            MerkleAccumulator first = new MerkleAccumulator();
            leaves.subList(0, stop).forEach(first::appendLeafHash);
            assertThat(first.peaks()).hasSize(Integer.bitCount(stop));
            MerkleAccumulator resumed = MerkleAccumulator.restore(stop, first.peaks());
            assertThat(resumed.root()).isEqualTo(first.root());
            leaves.subList(stop, leaves.size()).forEach(resumed::appendLeafHash);
            assertThat(resumed.size()).isEqualTo(leaves.size());
            assertThat(resumed.root()).as("resumed at %d", stop).isEqualTo(MerkleTree.rootOf(leaves));
        }
    }

    @Test
    void restoringWithTheWrongNumberOfPeaksIsRefused() {
        MerkleHash peak = MerkleHash.ofLeaf(new byte[0]);
        assertThatThrownBy(() -> MerkleAccumulator.restore(3, List.of(peak)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MerkleAccumulator.restore(-1, List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void hashesOfTheWrongLengthAreRefused() {
        assertThatThrownBy(() -> MerkleHash.fromBytes(new byte[31])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MerkleHash.fromHex("abcd")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MerkleHash.fromHex("zz".repeat(32))).isInstanceOf(IllegalArgumentException.class);
        MerkleHash hash = MerkleHash.ofLeaf(new byte[] {1});
        assertThat(MerkleHash.fromHex(hash.toHex().toUpperCase())).isEqualTo(hash);
    }

    @Test
    void aLeafAndANodeOverTheSameBytesHashDifferently() {
        // The 0x00/0x01 prefixes: two leaf hashes cannot be passed off as one leaf's data.
        MerkleHash left = MerkleHash.ofLeaf("Hello".getBytes());
        MerkleHash right = MerkleHash.ofLeaf("World".getBytes());
        byte[] concatenated = ByteBuffer.allocate(64).put(left.toByteArray()).put(right.toByteArray()).array();
        assertThat(MerkleHash.ofChildren(left, right)).isNotEqualTo(MerkleHash.ofLeaf(concatenated));
        assertThat(MerkleHash.ofChildren(left, right)).isNotEqualTo(MerkleHash.ofChildren(right, left));
    }

    @Test
    void twoHundredThousandLeavesAreRootedWellWithinTenSeconds() {
        // A sanity bound only, loose enough never to flake; the measured rate is in the README.
        MerkleHash root = assertTimeout(Duration.ofSeconds(10), () -> {
            MerkleAccumulator accumulator = new MerkleAccumulator();
            byte[] leaf = new byte[200];
            for (int i = 0; i < 200_000; i++) {
                leaf[0] = (byte) i;
                leaf[1] = (byte) (i >>> 8);
                leaf[2] = (byte) (i >>> 16);
                accumulator.appendLeaf(leaf);
            }
            return accumulator.root();
        });
        assertThat(root).isNotEqualTo(MerkleHash.emptyTree());
    }

    private static List<Integer> sizes(Random random, int max) {
        TreeSet<Integer> sizes = new TreeSet<>();
        for (int n = 1; n <= 70; n++) {
            sizes.add(n);
        }
        sizes.add(1023);
        sizes.add(1024);
        sizes.add(1025);
        sizes.add(max);
        while (sizes.size() < 70 + 4 + 12) {
            sizes.add(71 + random.nextInt(max - 71));
        }
        return new ArrayList<>(sizes);
    }

    static List<MerkleHash> leafHashes(int count, Random random) {
        List<MerkleHash> leaves = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte[] data = new byte[random.nextInt(64)];
            random.nextBytes(data);
            leaves.add(MerkleHash.ofLeaf(data));
        }
        return leaves;
    }
}
