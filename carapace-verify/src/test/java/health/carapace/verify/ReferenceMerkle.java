package health.carapace.verify;

import java.util.ArrayList;
import java.util.List;

/**
 * RFC 6962 section 2.1 transcribed literally (recursive, over lists), to check the iterative
 * code against. Small trees only.
 */
final class ReferenceMerkle {

    private ReferenceMerkle() {
    }

    /** MTH(D[n]). */
    static MerkleHash mth(List<MerkleHash> leaves) {
        int n = leaves.size();
        if (n == 0) {
            return MerkleHash.emptyTree();
        }
        if (n == 1) {
            return leaves.get(0);
        }
        int k = split(n);
        return MerkleHash.ofChildren(mth(leaves.subList(0, k)), mth(leaves.subList(k, n)));
    }

    /** PATH(m, D[n]). */
    static List<MerkleHash> path(int m, List<MerkleHash> leaves) {
        int n = leaves.size();
        List<MerkleHash> result = new ArrayList<>();
        if (n <= 1) {
            return result;
        }
        int k = split(n);
        if (m < k) {
            result.addAll(path(m, leaves.subList(0, k)));
            result.add(mth(leaves.subList(k, n)));
        } else {
            result.addAll(path(m - k, leaves.subList(k, n)));
            result.add(mth(leaves.subList(0, k)));
        }
        return result;
    }

    /** PROOF(m, D[n]) = SUBPROOF(m, D[n], true), for 0 &lt; m &lt; n. */
    static List<MerkleHash> proof(int m, List<MerkleHash> leaves) {
        return subproof(m, leaves, true);
    }

    private static List<MerkleHash> subproof(int m, List<MerkleHash> leaves, boolean b) {
        int n = leaves.size();
        List<MerkleHash> result = new ArrayList<>();
        if (m == n) {
            if (!b) {
                result.add(mth(leaves));
            }
            return result;
        }
        int k = split(n);
        if (m <= k) {
            result.addAll(subproof(m, leaves.subList(0, k), b));
            result.add(mth(leaves.subList(k, n)));
        } else {
            result.addAll(subproof(m - k, leaves.subList(k, n), false));
            result.add(mth(leaves.subList(0, k)));
        }
        return result;
    }

    /** The largest power of two smaller than n (n &ge; 2). */
    private static int split(int n) {
        int k = 1;
        while (k * 2 < n) {
            k *= 2;
        }
        return k;
    }
}
