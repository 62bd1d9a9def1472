package health.carapace.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The reference tree of RFC 6962 implementations, with the expected values copied from two
 * published test suites that agree with each other:
 * <ul>
 *   <li>google/certificate-transparency, {@code cpp/merkletree/merkle_tree_test.cc}
 *       ({@code kInputs}, {@code kSHA256Roots}, {@code kSHA256Paths}, {@code kSHA256Proofs});</li>
 *   <li>transparency-dev/merkle, {@code proof/verify_test.go} ({@code leaves}, {@code roots},
 *       {@code inclusionProofs}, {@code consistencyProofs}; the (6, 7) consistency proof is only
 *       there) and {@code rfc6962/rfc6962_test.go} (the hasher vectors).</li>
 * </ul>
 * The corruptions mirror those suites' {@code corruptInclusionProof} / {@code VerifierCheck}.
 */
class PublishedMerkleVectorsTest {

    private static final HexFormat HEX = HexFormat.of();

    /** The eight leaves of the reference tree (kInputs / leaves). */
    private static final List<byte[]> LEAVES = List.of(
            HEX.parseHex(""),
            HEX.parseHex("00"),
            HEX.parseHex("10"),
            HEX.parseHex("2021"),
            HEX.parseHex("3031"),
            HEX.parseHex("40414243"),
            HEX.parseHex("5051525354555657"),
            HEX.parseHex("606162636465666768696a6b6c6d6e6f"));

    /** Roots of the trees of the first 1..8 leaves (kSHA256Roots / roots). */
    private static final List<MerkleHash> ROOTS = hashes(
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");

    private static final MerkleHash EMPTY_TREE =
            MerkleHash.fromHex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /** sha256SomeHash in verify_test.go: a hash that is nothing in particular. */
    private static final MerkleHash SOME_HASH =
            MerkleHash.fromHex("abacaba000000000000000000000000000000000000000000060061e00123456");

    /** kSHA256Paths / inclusionProofs; the suites count leaves from 1, these from 0. */
    private record InclusionVector(long leafIndex, long treeSize, List<MerkleHash> path) {
    }

    private static final List<InclusionVector> INCLUSION = List.of(
            new InclusionVector(0, 1, List.of()),
            new InclusionVector(0, 8, hashes(
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
            new InclusionVector(5, 8, hashes(
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
            new InclusionVector(2, 3, hashes(
                    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
            new InclusionVector(1, 5, hashes(
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")));

    /** kSHA256Proofs / consistencyProofs. */
    private record ConsistencyVector(long oldSize, long newSize, List<MerkleHash> path) {
    }

    private static final List<ConsistencyVector> CONSISTENCY = List.of(
            new ConsistencyVector(1, 1, List.of()),
            new ConsistencyVector(1, 8, hashes(
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
            new ConsistencyVector(6, 8, hashes(
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
            new ConsistencyVector(2, 5, hashes(
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")),
            new ConsistencyVector(6, 7, hashes(
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")));

    private static final MerkleTree TREE = MerkleTree.ofLeaves(LEAVES);

    @Test
    void hashesLeavesAndTheEmptyTreeAsRfc6962Says() {
        // rfc6962/rfc6962_test.go: "RFC6962 Empty", "RFC6962 Empty Leaf", "RFC6962 Leaf".
        assertThat(MerkleHash.emptyTree()).isEqualTo(EMPTY_TREE);
        assertThat(MerkleHash.ofLeaf(new byte[0]).toHex())
                .isEqualTo("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
        assertThat(MerkleHash.ofLeaf("L123456".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).toHex())
                .isEqualTo("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56");
    }

    @Test
    void accumulatorGivesThePublishedRootAfterEachLeaf() {
        MerkleAccumulator accumulator = new MerkleAccumulator();
        assertThat(accumulator.root()).isEqualTo(EMPTY_TREE);
        for (int i = 0; i < LEAVES.size(); i++) {
            accumulator.appendLeaf(LEAVES.get(i));
            assertThat(accumulator.size()).isEqualTo(i + 1);
            assertThat(accumulator.root()).as("root of size %d", i + 1).isEqualTo(ROOTS.get(i));
        }
    }

    @Test
    void inMemoryTreeGivesThePublishedRootAtEachSize() {
        assertThat(TREE.rootAt(0)).isEqualTo(EMPTY_TREE);
        for (int size = 1; size <= LEAVES.size(); size++) {
            assertThat(TREE.rootAt(size)).as("root of size %d", size).isEqualTo(ROOTS.get(size - 1));
            List<MerkleHash> prefix = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                prefix.add(MerkleHash.ofLeaf(LEAVES.get(i)));
            }
            assertThat(MerkleTree.rootOf(prefix)).isEqualTo(ROOTS.get(size - 1));
            assertThat(MerkleTree.ofLeafHashes(prefix).root()).isEqualTo(ROOTS.get(size - 1));
        }
        assertThat(MerkleTree.rootOf(List.of())).isEqualTo(EMPTY_TREE);
    }

    @Test
    void generatesThePublishedInclusionProofs() {
        for (InclusionVector v : INCLUSION) {
            assertThat(TREE.inclusionProof(v.leafIndex(), v.treeSize()).auditPath())
                    .as("leaf %d in tree of size %d", v.leafIndex(), v.treeSize())
                    .isEqualTo(v.path());
        }
    }

    @Test
    void verifiesThePublishedInclusionProofs() throws VerificationException {
        for (InclusionVector v : INCLUSION) {
            InclusionProof.of(v.leafIndex(), v.treeSize(), v.path())
                    .verify(leafHash(v.leafIndex()), ROOTS.get((int) v.treeSize() - 1));
        }
    }

    @Test
    void rejectsEveryCorruptionOfThePublishedInclusionProofs() {
        for (InclusionVector v : INCLUSION) {
            long index = v.leafIndex();
            long size = v.treeSize();
            MerkleHash leaf = leafHash(index);
            MerkleHash root = ROOTS.get((int) size - 1);
            List<MerkleHash> path = v.path();

            assertInclusionRejected("leaf index - 1", () -> InclusionProof.of(index - 1, size, path), leaf, root);
            assertInclusionRejected("leaf index + 1", () -> InclusionProof.of(index + 1, size, path), leaf, root);
            assertInclusionRejected("leaf index ^ 2", () -> InclusionProof.of(index ^ 2, size, path), leaf, root);
            assertInclusionRejected("tree size * 2", () -> InclusionProof.of(index, size * 2, path), leaf, root);
            assertInclusionRejected("tree size / 2", () -> InclusionProof.of(index, size / 2, path), leaf, root);
            assertInclusionRejected("wrong leaf", () -> InclusionProof.of(index, size, path),
                    MerkleHash.ofLeaf("WrongLeaf".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), root);
            assertInclusionRejected("empty root", () -> InclusionProof.of(index, size, path), leaf, EMPTY_TREE);
            assertInclusionRejected("random root", () -> InclusionProof.of(index, size, path), leaf, SOME_HASH);
            assertInclusionRejected("trailing root", () -> InclusionProof.of(index, size, append(path, root)), leaf, root);
            assertInclusionRejected("trailing garbage",
                    () -> InclusionProof.of(index, size, append(path, SOME_HASH)), leaf, root);
            assertInclusionRejected("preceding root",
                    () -> InclusionProof.of(index, size, prepend(root, path)), leaf, root);
            assertInclusionRejected("preceding garbage",
                    () -> InclusionProof.of(index, size, prepend(SOME_HASH, path)), leaf, root);
            for (int i = 0; i < path.size(); i++) {
                List<MerkleHash> modified = flipBit(path, i, 3);
                assertInclusionRejected("modified path[" + i + "]",
                        () -> InclusionProof.of(index, size, modified), leaf, root);
            }
            if (!path.isEmpty()) {
                assertInclusionRejected("removed component",
                        () -> InclusionProof.of(index, size, path.subList(0, path.size() - 1)), leaf, root);
            }
            if (path.size() > 1) {
                List<MerkleHash> inserted = new ArrayList<>(path);
                inserted.add(1, SOME_HASH);
                assertInclusionRejected("inserted component", () -> InclusionProof.of(index, size, inserted), leaf, root);
            }
        }
    }

    @Test
    void generatesThePublishedConsistencyProofs() {
        for (ConsistencyVector v : CONSISTENCY) {
            assertThat(TREE.consistencyProof(v.oldSize(), v.newSize()).path())
                    .as("from %d to %d", v.oldSize(), v.newSize())
                    .isEqualTo(v.path());
        }
    }

    @Test
    void verifiesThePublishedConsistencyProofs() throws VerificationException {
        for (ConsistencyVector v : CONSISTENCY) {
            ConsistencyProof.of(v.oldSize(), v.newSize(), v.path())
                    .verify(ROOTS.get((int) v.oldSize() - 1), ROOTS.get((int) v.newSize() - 1));
        }
    }

    @Test
    void rejectsEveryCorruptionOfThePublishedConsistencyProofs() {
        for (ConsistencyVector v : CONSISTENCY) {
            if (v.path().isEmpty()) {
                continue; // as in both suites: only non-trivial proofs are corrupted
            }
            long m = v.oldSize();
            long n = v.newSize();
            MerkleHash root1 = ROOTS.get((int) m - 1);
            MerkleHash root2 = ROOTS.get((int) n - 1);
            List<MerkleHash> path = v.path();

            assertConsistencyRejected("old size - 1", () -> ConsistencyProof.of(m - 1, n, path), root1, root2);
            assertConsistencyRejected("old size + 1", () -> ConsistencyProof.of(m + 1, n, path), root1, root2);
            assertConsistencyRejected("old size ^ 2", () -> ConsistencyProof.of(m ^ 2, n, path), root1, root2);
            assertConsistencyRejected("new size * 2", () -> ConsistencyProof.of(m, n * 2, path), root1, root2);
            assertConsistencyRejected("new size / 2", () -> ConsistencyProof.of(m, n / 2, path), root1, root2);
            assertConsistencyRejected("wrong old root", () -> ConsistencyProof.of(m, n, path), SOME_HASH, root2);
            assertConsistencyRejected("wrong new root", () -> ConsistencyProof.of(m, n, path), root1, SOME_HASH);
            assertConsistencyRejected("swapped roots", () -> ConsistencyProof.of(m, n, path), root2, root1);
            assertConsistencyRejected("empty proof", () -> ConsistencyProof.of(m, n, List.of()), root1, root2);
            assertConsistencyRejected("trailing old root",
                    () -> ConsistencyProof.of(m, n, append(path, root1)), root1, root2);
            assertConsistencyRejected("trailing new root",
                    () -> ConsistencyProof.of(m, n, append(path, root2)), root1, root2);
            assertConsistencyRejected("trailing garbage",
                    () -> ConsistencyProof.of(m, n, append(path, SOME_HASH)), root1, root2);
            assertConsistencyRejected("preceding old root",
                    () -> ConsistencyProof.of(m, n, prepend(root1, path)), root1, root2);
            assertConsistencyRejected("preceding new root",
                    () -> ConsistencyProof.of(m, n, prepend(root2, path)), root1, root2);
            assertConsistencyRejected("preceding proof[0]",
                    () -> ConsistencyProof.of(m, n, prepend(path.get(0), path)), root1, root2);
            assertConsistencyRejected("truncated proof",
                    () -> ConsistencyProof.of(m, n, path.subList(0, path.size() - 1)), root1, root2);
            for (int i = 0; i < path.size(); i++) {
                List<MerkleHash> modified = flipBit(path, i, 4);
                assertConsistencyRejected("modified proof[" + i + "]",
                        () -> ConsistencyProof.of(m, n, modified), root1, root2);
            }
        }
    }

    @Test
    void consistencyOfTrivialSizesNeedsMatchingRootsAndAnEmptyProof() throws VerificationException {
        // TestVerifyConsistency's fixed cases, with real roots where the Go test uses "don't care".
        ConsistencyProof.of(0, 0, List.of()).verify(EMPTY_TREE, EMPTY_TREE);
        ConsistencyProof.of(0, 1, List.of()).verify(EMPTY_TREE, ROOTS.get(0));
        ConsistencyProof.of(1, 1, List.of()).verify(ROOTS.get(0), ROOTS.get(0));

        assertConsistencyRejected("equal sizes, different roots",
                () -> ConsistencyProof.of(1, 1, List.of()), ROOTS.get(0), ROOTS.get(1));
        assertConsistencyRejected("size 0 with a non-empty root",
                () -> ConsistencyProof.of(0, 1, List.of()), ROOTS.get(0), ROOTS.get(0));
        assertConsistencyRejected("empty proof between different sizes",
                () -> ConsistencyProof.of(1, 2, List.of()), ROOTS.get(0), ROOTS.get(1));
        assertConsistencyRejected("roots match but the proof is not empty",
                () -> ConsistencyProof.of(1, 1, List.of(EMPTY_TREE)), ROOTS.get(0), ROOTS.get(0));
        assertConsistencyRejected("size 0 with a non-empty proof",
                () -> ConsistencyProof.of(0, 1, List.of(EMPTY_TREE)), EMPTY_TREE, ROOTS.get(0));
        assertConsistencyRejected("time travel to the past", () -> ConsistencyProof.of(2, 1, List.of()),
                ROOTS.get(1), ROOTS.get(0));
    }

    @Test
    void inclusionProofsForImpossiblePositionsCannotBeMade() {
        // TestVerifyInclusion's probes (index, size) = (0,0), (1,0), (2,1).
        assertThatThrownBy(() -> InclusionProof.of(0, 0, List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> InclusionProof.of(1, 0, List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> InclusionProof.of(2, 1, List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TREE.inclusionProof(8, 8)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TREE.inclusionProof(0, 9)).isInstanceOf(IllegalArgumentException.class);
    }

    /** A corrupted proof is rejected either when it is made (impossible shape) or when verified. */
    static void assertInclusionRejected(String what, Supplier<InclusionProof> proof, MerkleHash leaf, MerkleHash root) {
        InclusionProof made;
        try {
            made = proof.get();
        } catch (IllegalArgumentException impossibleShape) {
            return;
        }
        assertThatThrownBy(() -> made.verify(leaf, root)).as(what).isInstanceOf(VerificationException.class);
    }

    static void assertConsistencyRejected(String what, Supplier<ConsistencyProof> proof, MerkleHash root1,
            MerkleHash root2) {
        ConsistencyProof made;
        try {
            made = proof.get();
        } catch (IllegalArgumentException impossibleShape) {
            return;
        }
        assertThatThrownBy(() -> made.verify(root1, root2)).as(what).isInstanceOf(VerificationException.class);
    }

    static List<MerkleHash> flipBit(List<MerkleHash> path, int element, int bit) {
        List<MerkleHash> modified = new ArrayList<>(path);
        byte[] bytes = path.get(element).toByteArray();
        bytes[0] ^= (byte) (1 << bit);
        modified.set(element, MerkleHash.fromBytes(bytes));
        return modified;
    }

    private static MerkleHash leafHash(long index) {
        return MerkleHash.ofLeaf(LEAVES.get((int) index));
    }

    private static List<MerkleHash> append(List<MerkleHash> path, MerkleHash extra) {
        List<MerkleHash> result = new ArrayList<>(path);
        result.add(extra);
        return result;
    }

    private static List<MerkleHash> prepend(MerkleHash extra, List<MerkleHash> path) {
        List<MerkleHash> result = new ArrayList<>();
        result.add(extra);
        result.addAll(path);
        return result;
    }

    private static List<MerkleHash> hashes(String... hex) {
        List<MerkleHash> result = new ArrayList<>();
        for (String h : hex) {
            result.add(MerkleHash.fromHex(h));
        }
        return List.copyOf(result);
    }
}
