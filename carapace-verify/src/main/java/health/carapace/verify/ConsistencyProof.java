package health.carapace.verify;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Proof that the tree of {@code oldSize} leaves is a prefix of the tree of {@code newSize}
 * leaves (RFC 6962 section 2.1.2): nothing the older tree head committed to was changed or
 * removed later. Immutable. Make one with {@link MerkleTree#consistencyProof} or, when
 * received, with {@link #of}; check it with {@link #verify}.
 */
public final class ConsistencyProof {

    private final long oldSize;
    private final long newSize;
    private final List<MerkleHash> path;

    private ConsistencyProof(long oldSize, long newSize, List<MerkleHash> path) {
        this.oldSize = oldSize;
        this.newSize = newSize;
        this.path = path;
    }

    /**
     * A proof as received. Only the shape is checked here (0 &le; oldSize &le; newSize); whether it
     * proves anything is up to {@link #verify}.
     */
    public static ConsistencyProof of(long oldSize, long newSize, List<MerkleHash> path) {
        if (oldSize < 0 || oldSize > newSize) {
            throw new IllegalArgumentException(
                    "a consistency proof goes from a smaller tree to a larger one, not " + oldSize + " to " + newSize);
        }
        return new ConsistencyProof(oldSize, newSize, List.copyOf(path));
    }

    public long oldSize() {
        return oldSize;
    }

    public long newSize() {
        return newSize;
    }

    /** The proof's hashes, in the order of RFC 6962 section 2.1.2. */
    public List<MerkleHash> path() {
        return path;
    }

    /**
     * Checks that {@code oldRoot}, the root of a tree of {@link #oldSize()} leaves, and
     * {@code newRoot}, the root of a tree of {@link #newSize()} leaves, describe the same log:
     * the older is a prefix of the newer. The algorithm is RFC 9162 section 2.1.4.2, with the
     * trivial cases made explicit: equal sizes need equal roots and an empty proof; a size of
     * zero needs the empty-tree root and an empty proof.
     *
     * @throws VerificationException if they do not
     */
    public void verify(MerkleHash oldRoot, MerkleHash newRoot) throws VerificationException {
        Objects.requireNonNull(oldRoot, "oldRoot");
        Objects.requireNonNull(newRoot, "newRoot");
        if (oldSize == 0) {
            requireEmptyPath();
            if (!oldRoot.equals(MerkleHash.emptyTree())) {
                throw failure("a tree of size 0 has root " + MerkleHash.emptyTree() + ", not " + oldRoot);
            }
            return;
        }
        if (oldSize == newSize) {
            requireEmptyPath();
            if (!oldRoot.equals(newRoot)) {
                throw failure("two trees of the same size have different roots " + oldRoot + " and " + newRoot);
            }
            return;
        }
        if (path.isEmpty()) {
            throw failure("the proof is empty");
        }

        List<MerkleHash> c = path;
        if (Long.bitCount(oldSize) == 1) {
            // The old tree is a perfect subtree of the new one: its root is the first node.
            c = new ArrayList<>(path.size() + 1);
            c.add(oldRoot);
            c.addAll(path);
        }
        long fn = oldSize - 1;
        long sn = newSize - 1;
        while ((fn & 1) == 1) {
            fn >>= 1;
            sn >>= 1;
        }
        MerkleHash fr = c.get(0);
        MerkleHash sr = c.get(0);
        for (MerkleHash node : c.subList(1, c.size())) {
            if (sn == 0) {
                throw failure("the proof has " + path.size() + " hashes: too many");
            }
            if ((fn & 1) == 1 || fn == sn) {
                fr = MerkleHash.ofChildren(node, fr);
                sr = MerkleHash.ofChildren(node, sr);
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                sr = MerkleHash.ofChildren(sr, node);
            }
            fn >>= 1;
            sn >>= 1;
        }
        if (sn != 0) {
            throw failure("the proof has " + path.size() + " hashes: too few");
        }
        if (!fr.equals(oldRoot)) {
            throw failure("the proof leads to old root " + fr + ", not " + oldRoot);
        }
        if (!sr.equals(newRoot)) {
            throw failure("the proof leads to new root " + sr + ", not " + newRoot);
        }
    }

    private void requireEmptyPath() throws VerificationException {
        if (!path.isEmpty()) {
            throw failure("the proof must be empty, it has " + path.size() + " hashes");
        }
    }

    private VerificationException failure(String reason) {
        return new VerificationException(
                "consistency proof from tree size " + oldSize + " to " + newSize + " fails: " + reason);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ConsistencyProof that
                && oldSize == that.oldSize && newSize == that.newSize && path.equals(that.path);
    }

    @Override
    public int hashCode() {
        return Objects.hash(oldSize, newSize, path);
    }

    @Override
    public String toString() {
        return "ConsistencyProof[oldSize=" + oldSize + ", newSize=" + newSize + ", path=" + path + "]";
    }
}
