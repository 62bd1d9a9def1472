package health.carapace.audit.internal;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditExporter;
import health.carapace.audit.AuditTrail;
import health.carapace.verify.BundleWriter;
import health.carapace.verify.Ed25519TreeHeadSigner;
import health.carapace.verify.MerkleHash;
import health.carapace.verify.MerkleTree;
import health.carapace.verify.SignedTreeHead;
import health.carapace.verify.TreeHead;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowCallbackHandler;

/**
 * Exports a leaf range with inclusion proofs against the latest signed tree head, plus the first
 * head that covers the range and the consistency proof between the two. The proofs come from the
 * stored leaf hashes; the verifier recomputes every leaf from the exported event bytes, so a
 * tampered database produces a bundle that fails verification rather than a false proof.
 */
final class BundleExporter implements AuditExporter {

    private final JdbcTemplate jdbc;
    private final Ed25519TreeHeadSigner signer;
    private final AuditTrail audit;

    BundleExporter(DataSource dataSource, Ed25519TreeHeadSigner signer, AuditTrail audit) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.jdbc.setFetchSize(10_000);
        this.signer = signer;
        this.audit = audit;
    }

    @Override
    public Export export(Instant from, Instant to, Path directory) {
        Long first = jdbc.queryForObject("select min(l.leaf_index) from audit.leaf l join audit.event e on e.id = l.event_id "
                + "where e.recorded_at >= ? and e.recorded_at < ?", Long.class, Timestamp.from(from), Timestamp.from(to));
        Long last = jdbc.queryForObject("select max(l.leaf_index) from audit.leaf l join audit.event e on e.id = l.event_id "
                + "where e.recorded_at >= ? and e.recorded_at < ?", Long.class, Timestamp.from(from), Timestamp.from(to));
        if (first == null || last == null) {
            throw new IllegalArgumentException("No sealed audit event was recorded in that period");
        }
        long end = last + 1;
        List<SignedTreeHead> heads = jdbc.query("""
                (select tree_size, root_hash, signed_at, key_id, signature from audit.tree_head
                   where tree_size >= ? order by tree_size limit 1)
                union
                (select tree_size, root_hash, signed_at, key_id, signature from audit.tree_head
                   order by tree_size desc limit 1)
                order by tree_size""",
                (rs, n) -> SignedTreeHead.of(TreeHead.of(rs.getLong(1), MerkleHash.fromBytes(rs.getBytes(2)),
                        rs.getTimestamp(3).getTime(), rs.getString(4)), rs.getBytes(5)), end);
        if (heads.isEmpty()) {
            throw new IllegalArgumentException("No signed tree head covers that period yet");
        }
        long treeSize = heads.get(heads.size() - 1).head().treeSize();
        List<MerkleHash> leafHashes = new ArrayList<>();
        jdbc.query("select leaf_hash from audit.leaf where leaf_index < ? order by leaf_index",
                (RowCallbackHandler) rs -> leafHashes.add(MerkleHash.fromBytes(rs.getBytes(1))), treeSize);
        MerkleTree tree = MerkleTree.ofLeafHashes(leafHashes);
        try (BundleWriter bundle = BundleWriter.create(directory, signer.verifier(), first, end)) {
            for (SignedTreeHead head : heads) {
                bundle.addTreeHead(head);
            }
            for (int i = 1; i < heads.size(); i++) {
                bundle.addConsistencyProof(tree.consistencyProof(heads.get(i - 1).head().treeSize(),
                        heads.get(i).head().treeSize()));
            }
            jdbc.query("""
                    select l.leaf_index, e.body from audit.leaf l join audit.event e on e.id = l.event_id
                    where l.leaf_index >= ? and l.leaf_index < ? order by l.leaf_index""",
                    (RowCallbackHandler) rs -> {
                        try {
                            long index = rs.getLong(1);
                            bundle.addEvent(index, rs.getBytes(2), tree.inclusionProof(index, treeSize));
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }, first, end);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the audit export to " + directory, e);
        }
        // Exporting is itself a disclosure of audit data: it leaves an event of its own.
        audit.record(List.of(AuditEvent.now("cli:" + System.getProperty("user.name", "unknown"), AuditAction.EXPORTED,
                "/audit/export/" + first + "-" + end, AuditContext.none(), true, null, null, null)));
        return new Export(directory, first, end, treeSize);
    }
}
