package health.carapace.audit.internal;

import health.carapace.audit.AuditProofs;
import health.carapace.verify.InclusionProof;
import health.carapace.verify.MerkleAccumulator;
import health.carapace.verify.MerkleHash;
import health.carapace.verify.VerificationException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.RowCallbackHandler;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Inclusion proofs over {@code audit.leaf} and the latest {@code audit.tree_head}. The audit path
 * is PATH(m, D[n]) of RFC 6962 §2.1.1; each sibling subtree's hash is computed by streaming its
 * leaf hashes through a {@link MerkleAccumulator}, so memory stays logarithmic however large the
 * trail; the hashes of large perfect subtrees are kept, so only the first proof is linear in the
 * trail (a proof is made on request, not per page). The proof is checked
 * against the head's root before it is returned: a tampered table yields no proof, never a false one.
 */
@Component
class StoredInclusionProofs implements AuditProofs {

    private final JdbcClient jdbc;

    StoredInclusionProofs(DataSource dataSource) {
        this.jdbc = JdbcClient.create(dataSource);
    }

    private record Leaf(long index, MerkleHash hash) {}

    private record Head(long treeSize, MerkleHash root, java.time.Instant signedAt, String keyId, byte[] signature) {}

    @Override
    public Optional<Inclusion> inclusion(UUID eventId) {
        Optional<Leaf> leaf = jdbc.sql("""
                select l.leaf_index, l.leaf_hash from audit.leaf l join audit.event e on e.id = l.event_id
                where e.event_id = ?""")
                .param(eventId)
                .query((rs, n) -> new Leaf(rs.getLong(1), MerkleHash.fromBytes(rs.getBytes(2))))
                .optional();
        Optional<Head> head = jdbc.sql("""
                select tree_size, root_hash, signed_at, key_id, signature from audit.tree_head
                order by tree_size desc limit 1""")
                .query((rs, n) -> new Head(rs.getLong(1), MerkleHash.fromBytes(rs.getBytes(2)),
                        rs.getTimestamp(3).toInstant(), rs.getString(4), rs.getBytes(5)))
                .optional();
        if (leaf.isEmpty() || head.isEmpty() || leaf.get().index() >= head.get().treeSize()) {
            return Optional.empty();
        }
        List<MerkleHash> path = new ArrayList<>();
        auditPath(leaf.get().index(), 0, head.get().treeSize(), path);
        InclusionProof proof = InclusionProof.of(leaf.get().index(), head.get().treeSize(), path);
        try {
            proof.verify(leaf.get().hash(), head.get().root());
        } catch (VerificationException tampered) {
            return Optional.empty();
        }
        return Optional.of(new Inclusion(eventId, leaf.get().index(), head.get().treeSize(), leaf.get().hash().toHex(),
                head.get().root().toHex(), head.get().signedAt(), head.get().keyId(),
                Base64.getEncoder().encodeToString(head.get().signature()),
                path.stream().map(MerkleHash::toHex).toList()));
    }

    private void auditPath(long m, long lo, long hi, List<MerkleHash> path) {
        if (hi - lo == 1) {
            return;
        }
        long k = Long.highestOneBit(hi - lo - 1);
        if (m < lo + k) {
            auditPath(m, lo, lo + k, path);
            path.add(subtreeHash(lo + k, hi));
        } else {
            auditPath(m, lo + k, hi, path);
            path.add(subtreeHash(lo, lo + k));
        }
    }

    /**
     * MTH(D[lo:hi]). A perfect subtree of at least {@link #CHUNK} leaves is kept once computed: the
     * leaves under a signed head never change (the trail is append-only, its triggers refuse
     * UPDATE and DELETE), so such a hash is the same for every later proof, and a proof after the
     * first reads only the leaves of the newest, not yet perfect, part of the tree (review of the
     * console, finding 8). A wrong kept hash could only make the proof fail its check against the
     * signed root below: no proof, never a false one.
     */
    private MerkleHash subtreeHash(long lo, long hi) {
        long size = hi - lo;
        if (size < CHUNK) {
            return streamed(lo, hi);
        }
        if (Long.bitCount(size) != 1) {
            long k = Long.highestOneBit(size - 1);
            return MerkleHash.ofChildren(subtreeHash(lo, lo + k), subtreeHash(lo + k, hi));
        }
        Range range = new Range(lo, hi);
        MerkleHash kept = perfect.get(range);
        if (kept != null) {
            return kept;
        }
        if (size == CHUNK || perfect.size() >= MAX_KEPT) {
            return keep(range, streamed(lo, hi));
        }
        if (!perfect.containsKey(new Range(lo, lo + CHUNK))) {
            streamChunks(lo, hi); // one pass over the range keeps every chunk of it
        }
        long half = size / 2;
        return keep(range, MerkleHash.ofChildren(subtreeHash(lo, lo + half), subtreeHash(lo + half, hi)));
    }

    /** Perfect subtrees of this many leaves and more are kept (about 2 n / CHUNK hashes for a trail of n events). */
    static final long CHUNK = 1024;
    private static final int MAX_KEPT = 200_000;

    private record Range(long lo, long hi) {}

    private final java.util.Map<Range, MerkleHash> perfect = new java.util.concurrent.ConcurrentHashMap<>();

    private MerkleHash keep(Range range, MerkleHash hash) {
        if (perfect.size() < MAX_KEPT) {
            perfect.put(range, hash);
        }
        return hash;
    }

    /** The hashes of every {@link #CHUNK}-leaf subtree of [lo, hi) (both multiples of CHUNK), in one pass. */
    private void streamChunks(long lo, long hi) {
        long[] next = {lo};
        MerkleAccumulator[] chunk = {new MerkleAccumulator()};
        jdbc.sql("select leaf_hash from audit.leaf where leaf_index >= ? and leaf_index < ? order by leaf_index")
                .params(lo, hi)
                .query((RowCallbackHandler) rs -> {
                    chunk[0].appendLeafHash(MerkleHash.fromBytes(rs.getBytes(1)));
                    if (chunk[0].size() == CHUNK) {
                        keep(new Range(next[0], next[0] + CHUNK), chunk[0].root());
                        next[0] += CHUNK;
                        chunk[0] = new MerkleAccumulator();
                    }
                });
    }

    /** MTH(D[lo:hi]): the leaf hashes of the range, streamed in order. */
    private MerkleHash streamed(long lo, long hi) {
        MerkleAccumulator accumulator = new MerkleAccumulator();
        jdbc.sql("select leaf_hash from audit.leaf where leaf_index >= ? and leaf_index < ? order by leaf_index")
                .params(lo, hi)
                .query((RowCallbackHandler) rs -> accumulator.appendLeafHash(MerkleHash.fromBytes(rs.getBytes(1))));
        return accumulator.root();
    }
}
