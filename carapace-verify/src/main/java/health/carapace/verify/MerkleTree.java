package health.carapace.verify;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * An RFC 6962 Merkle tree held in memory, for making inclusion and consistency proofs: the
 * audit export builds one over the exported log and asks it for every proof. Immutable.
 *
 * <p>It keeps every complete (perfect) subtree's hash in flat byte arrays, about 64 bytes per
 * leaf, so that any proof takes O(log n) hash look-ups and at most O(log n) hashing for the
 * tree's ragged right edge. Up to {@value #MAX_LEAVES} leaves. To compute only a root, use
 * {@link #rootOf} or {@link MerkleAccumulator}, which hold O(log n) hashes.
 */
public final class MerkleTree {

    /** The largest tree this class holds: the leaf level must fit one Java array. */
    public static final int MAX_LEAVES = (Integer.MAX_VALUE - 8) / Sha256.LENGTH;

    private final long size;
    /** levels[k] holds the hashes of the perfect subtrees of 2^k leaves, left to right. */
    private final byte[][] levels;

    private MerkleTree(long size, byte[][] levels) {
        this.size = size;
        this.levels = levels;
    }

    /**
     * The root of the tree whose leaves have these hashes, in order; computed by streaming them
     * through a {@link MerkleAccumulator} (O(n) time, O(log n) memory).
     */
    public static MerkleHash rootOf(Iterable<MerkleHash> leafHashes) {
        MerkleAccumulator accumulator = new MerkleAccumulator();
        for (MerkleHash leafHash : leafHashes) {
            accumulator.appendLeafHash(leafHash);
        }
        return accumulator.root();
    }

    /** The tree of these leaves (each is hashed with {@link MerkleHash#ofLeaf}). */
    public static MerkleTree ofLeaves(List<byte[]> leaves) {
        List<MerkleHash> hashes = new ArrayList<>(leaves.size());
        for (byte[] leaf : leaves) {
            hashes.add(MerkleHash.ofLeaf(leaf));
        }
        return ofLeafHashes(hashes);
    }

    /** The tree whose leaves have these hashes, in order. */
    public static MerkleTree ofLeafHashes(List<MerkleHash> leafHashes) {
        int n = leafHashes.size();
        if (n > MAX_LEAVES) {
            throw new IllegalArgumentException("at most " + MAX_LEAVES + " leaves, not " + n);
        }
        List<byte[]> levels = new ArrayList<>();
        byte[] level = new byte[n * Sha256.LENGTH];
        for (int i = 0; i < n; i++) {
            byte[] hash = Objects.requireNonNull(leafHashes.get(i), "leaf hash").toByteArray();
            System.arraycopy(hash, 0, level, i * Sha256.LENGTH, Sha256.LENGTH);
        }
        levels.add(level);
        int count = n;
        while (count > 1) {
            int parents = count / 2;
            byte[] above = new byte[parents * Sha256.LENGTH];
            byte[] left = new byte[Sha256.LENGTH];
            byte[] right = new byte[Sha256.LENGTH];
            for (int i = 0; i < parents; i++) {
                System.arraycopy(level, 2 * i * Sha256.LENGTH, left, 0, Sha256.LENGTH);
                System.arraycopy(level, (2 * i + 1) * Sha256.LENGTH, right, 0, Sha256.LENGTH);
                byte[] parent = Sha256.hash(MerkleHash.NODE_PREFIX, left, right);
                System.arraycopy(parent, 0, above, i * Sha256.LENGTH, Sha256.LENGTH);
            }
            levels.add(above);
            level = above;
            count = parents;
        }
        return new MerkleTree(n, levels.toArray(new byte[0][]));
    }

    /** The number of leaves. */
    public long size() {
        return size;
    }

    /** The root of the whole tree. */
    public MerkleHash root() {
        return rootAt(size);
    }

    /** The root of the tree of the first {@code treeSize} leaves (0 &le; treeSize &le; size()). */
    public MerkleHash rootAt(long treeSize) {
        if (treeSize < 0 || treeSize > size) {
            throw new IllegalArgumentException("tree size " + treeSize + " is not in 0.." + size);
        }
        return treeSize == 0 ? MerkleHash.emptyTree() : subtreeHash(0, treeSize);
    }

    /** The hash of the leaf at {@code index}. */
    public MerkleHash leafHash(long index) {
        if (index < 0 || index >= size) {
            throw new IllegalArgumentException("leaf index " + index + " is not in 0.." + (size - 1));
        }
        return node(0, index);
    }

    /**
     * The proof that leaf {@code leafIndex} is in the tree of the first {@code treeSize} leaves:
     * PATH(m, D[n]) of RFC 6962 section 2.1.1.
     */
    public InclusionProof inclusionProof(long leafIndex, long treeSize) {
        if (treeSize < 1 || treeSize > size) {
            throw new IllegalArgumentException("tree size " + treeSize + " is not in 1.." + size);
        }
        if (leafIndex < 0 || leafIndex >= treeSize) {
            throw new IllegalArgumentException("leaf index " + leafIndex + " is not in 0.." + (treeSize - 1));
        }
        List<MerkleHash> path = new ArrayList<>();
        auditPath(leafIndex, 0, treeSize, path);
        return InclusionProof.of(leafIndex, treeSize, path);
    }

    /**
     * The proof that the tree of {@code oldSize} leaves is a prefix of the tree of
     * {@code newSize} leaves: PROOF(m, D[n]) of RFC 6962 section 2.1.2.
     */
    public ConsistencyProof consistencyProof(long oldSize, long newSize) {
        if (newSize < 0 || newSize > size) {
            throw new IllegalArgumentException("tree size " + newSize + " is not in 0.." + size);
        }
        if (oldSize < 0 || oldSize > newSize) {
            throw new IllegalArgumentException("old tree size " + oldSize + " is not in 0.." + newSize);
        }
        List<MerkleHash> path = new ArrayList<>();
        if (oldSize > 0 && oldSize < newSize) {
            subproof(oldSize, 0, newSize, true, path);
        }
        return ConsistencyProof.of(oldSize, newSize, path);
    }

    /** PATH(m, D[lo:hi]); the recursion is as deep as the tree (at most 64). */
    private void auditPath(long m, long lo, long hi, List<MerkleHash> path) {
        if (hi - lo == 1) {
            return;
        }
        long k = largestPowerOfTwoBelow(hi - lo);
        if (m < lo + k) {
            auditPath(m, lo, lo + k, path);
            path.add(subtreeHash(lo + k, hi));
        } else {
            auditPath(m, lo + k, hi, path);
            path.add(subtreeHash(lo, lo + k));
        }
    }

    /** SUBPROOF(m, D[lo:hi], b), with m counted from lo. */
    private void subproof(long m, long lo, long hi, boolean oldRootKnown, List<MerkleHash> path) {
        if (m == hi - lo) {
            if (!oldRootKnown) {
                path.add(subtreeHash(lo, hi));
            }
            return;
        }
        long k = largestPowerOfTwoBelow(hi - lo);
        if (m <= k) {
            subproof(m, lo, lo + k, oldRootKnown, path);
            path.add(subtreeHash(lo + k, hi));
        } else {
            subproof(m - k, lo + k, hi, false, path);
            path.add(subtreeHash(lo, lo + k));
        }
    }

    /**
     * MTH(D[lo:hi]) for a range that starts on a multiple of the power of two at or above its
     * length, which is every range the proofs ask for. Such a range is a run of perfect subtrees
     * whose sizes are the binary digits of its length, largest first; RFC 6962's split at the
     * largest power of two folds them from the right.
     */
    private MerkleHash subtreeHash(long lo, long hi) {
        List<MerkleHash> pieces = new ArrayList<>(Long.SIZE);
        long start = lo;
        for (int level = Long.SIZE - 2; level >= 0; level--) {
            long width = 1L << level;
            if (((hi - lo) & width) != 0) {
                if (start % width != 0) {
                    throw new IllegalStateException("range " + lo + ".." + hi + " is not aligned");
                }
                pieces.add(node(level, start / width));
                start += width;
            }
        }
        Collections.reverse(pieces);
        MerkleHash hash = pieces.get(0);
        for (MerkleHash left : pieces.subList(1, pieces.size())) {
            hash = MerkleHash.ofChildren(left, hash);
        }
        return hash;
    }

    private MerkleHash node(int level, long index) {
        byte[] hash = new byte[Sha256.LENGTH];
        System.arraycopy(levels[level], Math.toIntExact(index * Sha256.LENGTH), hash, 0, Sha256.LENGTH);
        return MerkleHash.fromBytes(hash);
    }

    private static long largestPowerOfTwoBelow(long n) {
        return Long.highestOneBit(n - 1);
    }
}
