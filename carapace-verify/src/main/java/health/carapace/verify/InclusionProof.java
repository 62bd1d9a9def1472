package health.carapace.verify;

import java.util.List;
import java.util.Objects;

/**
 * Proof that the leaf at {@code leafIndex} is in the tree of the first {@code treeSize} leaves:
 * the audit path of RFC 6962 section 2.1.1, the sibling hashes from the leaf up to the root.
 * Immutable. Make one with {@link MerkleTree#inclusionProof} or, when received, with
 * {@link #of}; check it with {@link #verify}.
 */
public final class InclusionProof {

    private final long leafIndex;
    private final long treeSize;
    private final List<MerkleHash> auditPath;

    private InclusionProof(long leafIndex, long treeSize, List<MerkleHash> auditPath) {
        this.leafIndex = leafIndex;
        this.treeSize = treeSize;
        this.auditPath = auditPath;
    }

    /**
     * A proof as received. Only the shape is checked here (0 &le; leafIndex &lt; treeSize);
     * whether it proves anything is up to {@link #verify}.
     */
    public static InclusionProof of(long leafIndex, long treeSize, List<MerkleHash> auditPath) {
        if (leafIndex < 0 || leafIndex >= treeSize) {
            throw new IllegalArgumentException(
                    "leaf index " + leafIndex + " is not in a tree of size " + treeSize);
        }
        return new InclusionProof(leafIndex, treeSize, List.copyOf(auditPath));
    }

    public long leafIndex() {
        return leafIndex;
    }

    public long treeSize() {
        return treeSize;
    }

    /** The sibling hashes, from the leaf's sibling up to the child of the root. */
    public List<MerkleHash> auditPath() {
        return auditPath;
    }

    /**
     * Checks that the leaf whose hash is {@code leafHash} sits at {@link #leafIndex()} in the tree
     * of {@link #treeSize()} leaves whose root is {@code root}. The algorithm is RFC 9162 section
     * 2.1.3.2; it rejects paths that are too long or too short instead of ignoring extra hashes.
     *
     * @throws VerificationException if it does not
     */
    public void verify(MerkleHash leafHash, MerkleHash root) throws VerificationException {
        Objects.requireNonNull(leafHash, "leafHash");
        Objects.requireNonNull(root, "root");
        MerkleHash computed = rootFrom(leafHash);
        if (!computed.equals(root)) {
            throw new VerificationException("inclusion proof for leaf " + leafIndex + " in tree of size "
                    + treeSize + " leads to root " + computed + ", not " + root);
        }
    }

    private MerkleHash rootFrom(MerkleHash leafHash) throws VerificationException {
        long fn = leafIndex;
        long sn = treeSize - 1;
        MerkleHash r = leafHash;
        for (MerkleHash p : auditPath) {
            if (sn == 0) {
                throw new VerificationException("inclusion proof for leaf " + leafIndex + " in tree of size "
                        + treeSize + " has " + auditPath.size() + " hashes: too many");
            }
            if ((fn & 1) == 1 || fn == sn) {
                r = MerkleHash.ofChildren(p, r);
                // A right-edge node with no right sibling: climb to where it becomes a right child.
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                r = MerkleHash.ofChildren(r, p);
            }
            fn >>= 1;
            sn >>= 1;
        }
        if (sn != 0) {
            throw new VerificationException("inclusion proof for leaf " + leafIndex + " in tree of size "
                    + treeSize + " has " + auditPath.size() + " hashes: too few");
        }
        return r;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof InclusionProof that
                && leafIndex == that.leafIndex && treeSize == that.treeSize && auditPath.equals(that.auditPath);
    }

    @Override
    public int hashCode() {
        return Objects.hash(leafIndex, treeSize, auditPath);
    }

    @Override
    public String toString() {
        return "InclusionProof[leafIndex=" + leafIndex + ", treeSize=" + treeSize + ", auditPath=" + auditPath + "]";
    }
}
