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
 *
 * <p>Finding what to seal costs O(new events) too. Identity values are handed out before commit,
 * so an event can become visible below ids already sealed: an id missing when ids above it were
 * sealed is a gap, either a transaction still in flight or one rolled back. The node that sealed
 * last remembers the ids it has accounted for and its gaps, each with the snapshot's xmax when it
 * was seen; a seal then looks only at ids above those accounted for and at the gaps. A gap is
 * dropped once every transaction that was running when it was seen has ended (the current
 * snapshot's xmin has passed that xmax) and it still did not show up: it was rolled back. A node
 * that did not seal last (first seal, or another node sealed in between) falls back once to the
 * look-back scan, and rebuilds its gaps from it.
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

    /** An event waiting for its leaf, and the xmax of the snapshot that found it. */
    private record Unsealed(long eventId, byte[] body, long snapshotXmax) {}

    private final JdbcClient jdbc;
    private final JdbcTemplate batches;
    private final TransactionTemplate transactions;
    private final Ed25519TreeHeadSigner signer;
    private final int maxLeavesPerSeal;
    private final java.time.Clock clock;

    /** What this node knows about ids, valid only while the tree is the size it sealed to ({@link #knownForTreeSize}). */
    private long knownThrough;
    private long knownForTreeSize = -1;
    /** A look-back every this many seals even when this node sealed last. */
    private static final int LOOK_BACK_EVERY = 60;
    private int sealsSinceLookBack;
    /** The tree size this seal will leave if it commits; {@link #knownForTreeSize} takes it only after the commit. */
    private long pendingKnown = -1;
    /** Whether the last look for waiting events accounted for every id it passed (not cut short by the limit). */
    private boolean complete;
    /** Ids missing below {@link #knownThrough}, each with the xmax of the snapshot that first missed it. */
    private final java.util.TreeMap<Long, Long> gaps = new java.util.TreeMap<>();

    TreeSealer(DataSource dataSource, TransactionTemplate transactions, Ed25519TreeHeadSigner signer,
            int maxLeavesPerSeal) {
        this(dataSource, transactions, signer, maxLeavesPerSeal, java.time.Clock.systemUTC());
    }

    TreeSealer(DataSource dataSource, TransactionTemplate transactions, Ed25519TreeHeadSigner signer,
            int maxLeavesPerSeal, java.time.Clock clock) {
        this.clock = clock;
        this.jdbc = JdbcClient.create(dataSource);
        this.batches = new JdbcTemplate(dataSource);
        this.transactions = transactions;
        this.signer = signer;
        this.maxLeavesPerSeal = maxLeavesPerSeal;
    }

    /** Seals what is waiting; empty if another node holds the sealer lock or nothing waits. */
    Optional<Sealed> sealOnce() {
        pendingKnown = -1;
        Optional<Sealed> sealed = transactions.execute(status -> {
            // Every statement of the seal is planned for its own values (CustomPlans): the plan
            // cached after a backlog scanned the whole trail on every later seal.
            if (!jdbc.sql("select pg_try_advisory_xact_lock(?), " + CustomPlans.FOR_THIS_TRANSACTION).param(SEALER_LOCK)
                    .query((rs, n) -> rs.getBoolean(1)).single()) {
                return Optional.empty();
            }
            var last = jdbc.sql("select tree_size, peaks from audit.tree_head order by tree_size desc limit 1")
                    .query((rs, n) -> MerkleAccumulator.restore(rs.getLong(1), peaks(rs.getBytes(2))))
                    .optional();
            MerkleAccumulator tree = last.orElseGet(MerkleAccumulator::new);
            List<Unsealed> waiting = waiting(tree.size());
            if (waiting.isEmpty()) {
                pendingKnown = complete ? tree.size() : -1;
                return Optional.empty();
            }
            List<Object[]> leaves = new ArrayList<>(waiting.size());
            for (Unsealed event : waiting) {
                MerkleHash leaf = MerkleHash.ofLeaf(event.body());
                leaves.add(new Object[] {tree.size(), event.eventId(), leaf.toByteArray()});
                tree.appendLeafHash(leaf);
            }
            batches.batchUpdate("insert into audit.leaf (leaf_index, event_id, leaf_hash) values (?, ?, ?)", leaves);
            // Signed as milliseconds and stored as microseconds: an instant with finer digits could
            // be rounded up into the next millisecond when stored, and its signature no longer verify.
            Instant now = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
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
            pendingKnown = complete ? tree.size() : -1;
            return Optional.of(new Sealed(signed, waiting.size()));
        });
        // only once committed: if the commit fails, the next seal looks back
        knownForTreeSize = pendingKnown;
        return sealed;
    }

    /** Committed events without a leaf, oldest first, at most {@link #maxLeavesPerSeal}; updates the gaps. */
    private synchronized List<Unsealed> waiting(long treeSize) {
        // First, in a statement of its own: a gap whose transaction had ended by then is visible
        // to the queries below if it committed.
        long xmin = jdbc.sql("select pg_snapshot_xmin(pg_current_snapshot())::text::bigint").query(Long.class).single();
        boolean known = knownForTreeSize == treeSize && ++sealsSinceLookBack < LOOK_BACK_EVERY;
        // invalid until this seal is committed: a seal that fails leaves nothing this node may trust
        knownForTreeSize = -1;
        if (!known) {
            sealsSinceLookBack = 0;
            return lookBack();
        }
        List<Unsealed> waiting = jdbc.sql("""
                select e.id, e.body, pg_snapshot_xmax(pg_current_snapshot())::text::bigint from audit.event e
                where (e.id > ? or e.id = any(?)) and not exists (select 1 from audit.leaf l where l.event_id = e.id)
                order by e.id limit ?""")
                .params(knownThrough, gaps.keySet().toArray(Long[]::new), maxLeavesPerSeal)
                .query((rs, n) -> new Unsealed(rs.getLong(1), rs.getBytes(2), rs.getLong(3)))
                .list();
        account(waiting);
        complete = true;
        // what is still missing although every transaction that could have held it has ended was rolled back
        gaps.values().removeIf(seenAt -> seenAt <= xmin);
        return waiting;
    }

    /** The ids this node holds as gaps (for tests). */
    synchronized java.util.Set<Long> gapsKnown() {
        return java.util.Set.copyOf(gaps.keySet());
    }

    /**
     * The look-back scan, when this node did not seal last, and every {@link #LOOK_BACK_EVERY}
     * seals anyway (a backstop for an id that escaped the gap rule): every id it may have missed,
     * and the gaps among them. The gaps first: an id that becomes visible between the two
     * statements is then among those waiting, never lost between them.
     */
    private List<Unsealed> lookBack() {
        long highestSealed = jdbc.sql("select coalesce(max(event_id), 0) from audit.leaf").query(Long.class).single();
        long low = Math.max(0, highestSealed - LOOKBACK_IDS);
        gaps.clear();
        jdbc.sql("""
                select g, pg_snapshot_xmax(pg_current_snapshot())::text::bigint from generate_series(?::bigint, ?::bigint) g
                where not exists (select 1 from audit.event e where e.id = g)""")
                .params(low + 1, highestSealed)
                .query((rs, n) -> new long[] {rs.getLong(1), rs.getLong(2)})
                .list()
                .forEach(gap -> gaps.put(gap[0], gap[1]));
        List<Unsealed> waiting = jdbc.sql("""
                select e.id, e.body, pg_snapshot_xmax(pg_current_snapshot())::text::bigint from audit.event e
                where e.id > ? and not exists (select 1 from audit.leaf l where l.event_id = e.id)
                order by e.id limit ?""")
                .params(low, maxLeavesPerSeal)
                .query((rs, n) -> new Unsealed(rs.getLong(1), rs.getBytes(2), rs.getLong(3)))
                .list();
        knownThrough = highestSealed;
        account(waiting);
        // cut short by the limit, unsealed ids below the highest sealed may remain unseen: look back again
        complete = waiting.size() < maxLeavesPerSeal;
        return waiting;
    }

    /**
     * Ids now sealed leave the gaps; ids skipped below the highest one seen become gaps, with the
     * xmax of the snapshot that missed them. Such an id was drawn before that snapshot (ids are
     * drawn in order, and a higher one had committed), by a transaction that already had its
     * transaction id ({@link AuditLog#insert} takes one before drawing): below that xmax.
     */
    private void account(List<Unsealed> waiting) {
        java.util.Set<Long> sealing = new java.util.HashSet<>();
        long highest = knownThrough;
        long xmax = 0;
        for (Unsealed event : waiting) {
            sealing.add(event.eventId());
            gaps.remove(event.eventId());
            highest = Math.max(highest, event.eventId());
            xmax = event.snapshotXmax();
        }
        for (long id = knownThrough + 1; id < highest; id++) {
            if (!sealing.contains(id)) {
                gaps.put(id, xmax);
            }
        }
        knownThrough = highest;
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
