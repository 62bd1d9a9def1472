package health.carapace.audit.internal;

import health.carapace.verify.Ed25519TreeHeadSigner;
import health.carapace.verify.MerkleAccumulator;
import health.carapace.verify.MerkleHash;
import health.carapace.verify.SignedTreeHead;
import health.carapace.verify.TreeHead;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Seals the audit log at a fixed cadence: committed events that have no leaf yet get the next
 * leaf indexes, and a new tree head over all leaves is signed and stored, in one transaction.
 * One sealer at a time across nodes (transaction-scoped advisory lock). The sealer resumes from
 * the peaks stored with the last tree head, so a seal costs O(new events), not O(log).
 */
final class TreeSealer {

    private static final long SEALER_LOCK = 0x4341524150414345L ^ 1; // "CARAPACE" ^ 1
    /**
     * Events are looked for among ids above the highest sealed one minus this margin: identity
     * values are handed out before commit, so a slow transaction can commit an event with an id
     * below ones already sealed. Anything older than the margin shows up in audit verify.
     */
    private static final long LOOKBACK_IDS = 100_000;

    record Sealed(SignedTreeHead head, int newLeaves) {}

    private record Unsealed(long eventId, byte[] body) {}

    private final JdbcClient jdbc;
    private final JdbcTemplate batches;
    private final TransactionTemplate transactions;
    private final Ed25519TreeHeadSigner signer;
    private final int maxLeavesPerSeal;

    TreeSealer(DataSource dataSource, TransactionTemplate transactions, Ed25519TreeHeadSigner signer,
            int maxLeavesPerSeal) {
        this.jdbc = JdbcClient.create(dataSource);
        this.batches = new JdbcTemplate(dataSource);
        this.transactions = transactions;
        this.signer = signer;
        this.maxLeavesPerSeal = maxLeavesPerSeal;
    }

    /** Seals what is waiting; empty if another node holds the sealer lock or nothing waits. */
    Optional<Sealed> sealOnce() {
        return transactions.execute(status -> {
            if (!jdbc.sql("select pg_try_advisory_xact_lock(?)").param(SEALER_LOCK).query(Boolean.class).single()) {
                return Optional.empty();
            }
            var last = jdbc.sql("select tree_size, peaks from audit.tree_head order by tree_size desc limit 1")
                    .query((rs, n) -> MerkleAccumulator.restore(rs.getLong(1), peaks(rs.getBytes(2))))
                    .optional();
            MerkleAccumulator tree = last.orElseGet(MerkleAccumulator::new);
            long highestSealed = jdbc.sql("select coalesce(max(event_id), 0) from audit.leaf").query(Long.class).single();
            List<Unsealed> waiting = jdbc.sql("""
                    select e.id, e.body from audit.event e
                    where e.id > ? and not exists (select 1 from audit.leaf l where l.event_id = e.id)
                    order by e.id limit ?""")
                    .params(Math.max(0, highestSealed - LOOKBACK_IDS), maxLeavesPerSeal)
                    .query((rs, n) -> new Unsealed(rs.getLong(1), rs.getBytes(2)))
                    .list();
            if (waiting.isEmpty()) {
                return Optional.empty();
            }
            List<Object[]> leaves = new ArrayList<>(waiting.size());
            for (Unsealed event : waiting) {
                MerkleHash leaf = MerkleHash.ofLeaf(event.body());
                leaves.add(new Object[] {tree.size(), event.eventId(), leaf.toByteArray()});
                tree.appendLeafHash(leaf);
            }
            batches.batchUpdate("insert into audit.leaf (leaf_index, event_id, leaf_hash) values (?, ?, ?)", leaves);
            Instant now = Instant.now();
            TreeHead head = TreeHead.of(tree.size(), tree.root(), now.toEpochMilli(), signer.keyId());
            SignedTreeHead signed;
            try {
                signed = signer.sign(head);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("Cannot sign a tree head", e);
            }
            jdbc.sql("""
                    insert into audit.tree_head (tree_size, root_hash, signed_at, key_id, signature, peaks)
                    values (?, ?, ?, ?, ?, ?)""")
                    .params(head.treeSize(), head.rootHash().toByteArray(), Timestamp.from(now), head.keyId(),
                            signed.signature(), peaksBytes(tree.peaks()))
                    .update();
            return Optional.of(new Sealed(signed, waiting.size()));
        });
    }

    static byte[] peaksBytes(List<MerkleHash> peaks) {
        ByteBuffer out = ByteBuffer.allocate(peaks.size() * 32);
        peaks.forEach(p -> out.put(p.toByteArray()));
        return out.array();
    }

    static List<MerkleHash> peaks(byte[] bytes) {
        List<MerkleHash> peaks = new ArrayList<>(bytes.length / 32);
        for (int i = 0; i < bytes.length; i += 32) {
            peaks.add(MerkleHash.fromBytes(java.util.Arrays.copyOfRange(bytes, i, i + 32)));
        }
        return peaks;
    }
}
