package health.carapace.verify;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Appends leaf hashes one at a time and gives the RFC 6962 root of the leaves so far, holding
 * only O(log n) hashes: the roots of the perfect subtrees that make up the tree (its "peaks",
 * one per set bit of the size). This is what the sealer and {@code audit verify} run over
 * millions of events: no recursion, no list of leaves.
 *
 * <p>Not thread-safe: one accumulator belongs to one reader of the log.
 */
public final class MerkleAccumulator {

    /** peaks[level] is the root of a perfect subtree of 2^level leaves, or null. */
    private final MerkleHash[] peaks = new MerkleHash[Long.SIZE];
    private long size;

    /** An accumulator over no leaves. */
    public MerkleAccumulator() {
    }

    /**
     * Continues an accumulation whose state was saved with {@link #peaks()}: the sealer resumes
     * from its last tree head instead of rereading every event.
     *
     * @param size the number of leaves already accumulated
     * @param peaks the value of {@link #peaks()} at that size: largest (leftmost) subtree first
     */
    public static MerkleAccumulator restore(long size, List<MerkleHash> peaks) {
        if (size < 0) {
            throw new IllegalArgumentException("size must not be negative: " + size);
        }
        if (peaks.size() != Long.bitCount(size)) {
            throw new IllegalArgumentException("a tree of " + size + " leaves has " + Long.bitCount(size)
                    + " peaks, not " + peaks.size());
        }
        MerkleAccumulator accumulator = new MerkleAccumulator();
        int next = 0;
        for (int level = Long.SIZE - 1; level >= 0; level--) {
            if ((size >>> level & 1) != 0) {
                accumulator.peaks[level] = Objects.requireNonNull(peaks.get(next++), "peak");
            }
        }
        accumulator.size = size;
        return accumulator;
    }

    /** Hashes {@code leafData} as a leaf ({@link MerkleHash#ofLeaf}) and appends it. */
    public void appendLeaf(byte[] leafData) {
        appendLeafHash(MerkleHash.ofLeaf(leafData));
    }

    /** Appends a leaf whose hash is already known. */
    public void appendLeafHash(MerkleHash leafHash) {
        Objects.requireNonNull(leafHash, "leafHash");
        if (size == Long.MAX_VALUE) {
            throw new IllegalStateException("the tree is full");
        }
        // Binary addition of one leaf: each carry merges two equal perfect subtrees.
        MerkleHash carry = leafHash;
        int level = 0;
        while ((size >>> level & 1) != 0) {
            carry = MerkleHash.ofChildren(peaks[level], carry);
            peaks[level] = null;
            level++;
        }
        peaks[level] = carry;
        size++;
    }

    /** The number of leaves appended (or restored). */
    public long size() {
        return size;
    }

    /**
     * The root of the tree of all leaves so far; {@link MerkleHash#emptyTree()} when there are
     * none. RFC 6962 splits at the largest power of two, so the root folds the peaks from the
     * smallest (rightmost) to the largest.
     */
    public MerkleHash root() {
        if (size == 0) {
            return MerkleHash.emptyTree();
        }
        MerkleHash root = null;
        for (int level = 0; level < Long.SIZE; level++) {
            MerkleHash peak = peaks[level];
            if (peak != null) {
                root = root == null ? peak : MerkleHash.ofChildren(peak, root);
            }
        }
        return root;
    }

    /** The state to {@link #restore} from: the peaks, largest (leftmost) subtree first. */
    public List<MerkleHash> peaks() {
        List<MerkleHash> result = new ArrayList<>(Long.bitCount(size));
        for (int level = Long.SIZE - 1; level >= 0; level--) {
            if (peaks[level] != null) {
                result.add(peaks[level]);
            }
        }
        return Collections.unmodifiableList(result);
    }
}
