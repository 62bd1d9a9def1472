package health.carapace.audit.internal;

import health.carapace.audit.AuditVerifier;
import health.carapace.verify.MerkleAccumulator;
import health.carapace.verify.MerkleHash;
import health.carapace.verify.SignedTreeHead;
import health.carapace.verify.TreeHead;
import health.carapace.verify.TreeHeadVerifier;
import health.carapace.verify.VerificationException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowCallbackHandler;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code audit verify}: streams leaves and events in leaf order, recomputing each leaf hash from
 * the stored event body (never from re-serialised JSON), checks that the queryable columns say
 * what the body says, rebuilds the root at every stored tree head and checks its signature, then
 * checks every head in the witness directory against the rebuilt tree. Catches edited, deleted,
 * inserted and reordered events, forged heads and a log rolled back behind its witnesses.
 */
final class DatabaseAuditVerifier implements AuditVerifier {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final JdbcTemplate jdbc;
    private final TransactionTemplate readOnly;
    private final TreeHeadVerifier signatures;
    private final WitnessDirectory witness;

    DatabaseAuditVerifier(DataSource dataSource, TransactionTemplate transactions, TreeHeadVerifier signatures,
            WitnessDirectory witness) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.jdbc.setFetchSize(10_000);
        this.readOnly = new TransactionTemplate(Objects.requireNonNull(transactions.getTransactionManager()));
        this.readOnly.setReadOnly(true);
        this.signatures = signatures;
        this.witness = witness;
    }

    private static final class Walk {
        final MerkleAccumulator tree = new MerkleAccumulator();
        final Deque<SignedTreeHead> heads;
        final List<MerkleHash> rootsAtHeads = new ArrayList<>();
        long headsChecked;
        String problem;

        Walk(List<SignedTreeHead> heads) {
            this.heads = new ArrayDeque<>(heads);
        }
    }

    @Override
    public Report verify() {
        // The witness is read before the database's snapshot is taken: a head is witnessed only after
        // its seal committed, so every head read here is in the snapshot. Read after the walk (as it
        // was), a head sealed and witnessed meanwhile was reported as a rolled-back log.
        List<String> witnessProblems = new ArrayList<>();
        List<SignedTreeHead> witnessed = witness.read(witnessProblems);
        return readOnly.execute(status -> {
            List<SignedTreeHead> stored = jdbc.query(
                    "select tree_size, root_hash, signed_at, key_id, signature from audit.tree_head order by tree_size",
                    (rs, n) -> SignedTreeHead.of(TreeHead.of(rs.getLong(1), MerkleHash.fromBytes(rs.getBytes(2)),
                            rs.getTimestamp(3).getTime(), rs.getString(4)), rs.getBytes(5)));
            Walk walk = new Walk(stored);
            checkHeadsAt(walk); // a head of size 0, if any
            jdbc.query("""
                    select l.leaf_index, l.leaf_hash, e.id, e.body, e.actor, e.action, e.outcome, e.patient
                    from audit.leaf l left join audit.event e on e.id = l.event_id
                    order by l.leaf_index""", (RowCallbackHandler) rs -> {
                if (walk.problem == null) {
                    checkLeaf(rs, walk);
                }
            });
            if (walk.problem == null && !walk.heads.isEmpty()) {
                walk.problem = "tree head of size " + walk.heads.peek().head().treeSize() + " names leaves that are "
                        + "missing: the log ends at " + walk.tree.size() + " (leaves deleted)";
            }
            if (walk.problem == null) {
                walk.problem = witnessProblems.isEmpty() ? checkWitnessed(stored, witnessed) : witnessProblems.get(0);
            }
            if (walk.problem == null) {
                long stranded = jdbc.queryForObject("""
                        select count(*) from audit.event e
                        where not exists (select 1 from audit.leaf l where l.event_id = e.id)
                          and e.recorded_at < now() - interval '5 minutes'""", Long.class);
                if (stranded > 0) {
                    walk.problem = stranded + " events older than 5 minutes are in no leaf (inserted behind the sealer's back?)";
                }
            }
            return new Report(walk.problem == null, walk.tree.size(), walk.headsChecked, walk.problem);
        });
    }

    private void checkLeaf(ResultSet rs, Walk walk) throws SQLException {
        long index = rs.getLong(1);
        if (index != walk.tree.size()) {
            walk.problem = "leaf " + walk.tree.size() + " is missing (next is " + index + ")";
            return;
        }
        byte[] body = rs.getBytes(4);
        if (body == null) {
            walk.problem = "leaf " + index + ": its event is missing (event deleted)";
            return;
        }
        MerkleHash recomputed = MerkleHash.ofLeaf(body);
        if (!recomputed.equals(MerkleHash.fromBytes(rs.getBytes(2)))) {
            walk.problem = "leaf " + index + ": the event body does not match its leaf hash (event edited or moved)";
            return;
        }
        String mismatch = columnsMatchBody(body, rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8));
        if (mismatch != null) {
            walk.problem = "leaf " + index + ": column " + mismatch + " does not match the event body";
            return;
        }
        walk.tree.appendLeafHash(recomputed);
        checkHeadsAt(walk);
    }

    private void checkHeadsAt(Walk walk) {
        while (walk.problem == null && !walk.heads.isEmpty() && walk.heads.peek().head().treeSize() == walk.tree.size()) {
            SignedTreeHead signed = walk.heads.poll();
            if (!signed.head().rootHash().equals(walk.tree.root())) {
                walk.problem = "tree head of size " + signed.head().treeSize() + ": its root does not match the leaves";
                return;
            }
            try {
                signatures.verify(signed);
            } catch (VerificationException e) {
                walk.problem = "tree head of size " + signed.head().treeSize() + ": its signature is not valid";
                return;
            }
            walk.headsChecked++;
        }
    }

    /** Every witnessed head must be a stored head (same size, same root); a missing one means rollback. */
    private String checkWitnessed(List<SignedTreeHead> stored, List<SignedTreeHead> witnessed) {
        java.util.Map<Long, MerkleHash> roots = new java.util.HashMap<>();
        stored.forEach(h -> roots.put(h.head().treeSize(), h.head().rootHash()));
        for (SignedTreeHead head : witnessed) {
            MerkleHash root = roots.get(head.head().treeSize());
            if (root == null) {
                return "witnessed tree head of size " + head.head().treeSize() + " is not in the database (log rolled back?)";
            }
            if (!root.equals(head.head().rootHash())) {
                return "witnessed tree head of size " + head.head().treeSize() + " has another root than the database's";
            }
        }
        return null;
    }

    /**
     * Reads only the four top-level fields the columns repeat, with Jackson's streaming parser
     * (a tree per event would dominate the cost of verifying millions of events).
     */
    private static String columnsMatchBody(byte[] body, String actor, String action, String outcome, String patient) {
        String user = null;
        String bodyAction = null;
        String bodyOutcome = null;
        String bodyPatient = null;
        try (JsonParser parser = JSON.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return "body (not a JSON object)";
            }
            while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (field) {
                    case "user" -> user = value == JsonToken.VALUE_NULL ? null : parser.getString();
                    case "action" -> bodyAction = value == JsonToken.VALUE_NULL ? null : parser.getString();
                    case "outcome" -> bodyOutcome = value == JsonToken.VALUE_NULL ? null : parser.getString();
                    case "patient" -> bodyPatient = value == JsonToken.VALUE_NULL ? null : parser.getString();
                    default -> parser.skipChildren();
                }
            }
        } catch (RuntimeException e) {
            return "body (not JSON)";
        }
        if (!Objects.equals(user, actor)) {
            return "actor";
        }
        if (!Objects.equals(bodyAction, action)) {
            return "action";
        }
        if (!Objects.equals(bodyOutcome, outcome)) {
            return "outcome";
        }
        if (!Objects.equals(bodyPatient, patient)) {
            return "patient";
        }
        return null;
    }
}
