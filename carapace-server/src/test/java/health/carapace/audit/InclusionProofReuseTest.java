package health.carapace.audit;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import health.carapace.verify.InclusionProof;
import health.carapace.verify.MerkleHash;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Inclusion proofs keep the hashes of large perfect subtrees once computed (so a proof after the
 * first does not read every leaf of the trail again): proofs of events spread over a trail of
 * several thousand leaves, asked for again after the trail has grown under a newer head, each
 * checked here with carapace-verify's code against the head's root and the event's stored body.
 * A kept hash that were wrong, or kept for the wrong range, would yield no proof (the server's own
 * check) or one that fails here.
 */
class InclusionProofReuseTest extends IntegrationTest {

    @Autowired
    private AuditTrail trail;

    @Autowired
    private AuditProofs proofs;

    @Test
    void proofsStayRightAcrossAGrowingTrailWhenSubtreeHashesAreKept() throws Exception {
        List<UUID> seeded = seed(3 * 1024 + 17);
        List<UUID> probes = List.of(seeded.get(0), seeded.get(1023), seeded.get(1024), seeded.get(2500),
                seeded.get(seeded.size() - 1));
        for (UUID event : probes) {
            checked(event);
        }
        // the trail grows under a newer head; the same events' proofs, and new ones, reuse the kept hashes
        List<UUID> more = seed(2 * 1024 + 5);
        for (UUID event : probes) {
            checked(event);
        }
        checked(more.get(0));
        checked(more.get(more.size() - 1));
    }

    private void checked(UUID event) throws Exception {
        AuditProofs.Inclusion inclusion = Awaitility.await().atMost(Duration.ofSeconds(60))
                .until(() -> proofs.inclusion(event).orElse(null), found -> found != null);
        JdbcClient jdbc = JdbcClient.create(dataSource);
        byte[] body = jdbc.sql("select body from audit.event where event_id = ?").param(event).query(byte[].class).single();
        List<MerkleHash> path = new ArrayList<>();
        inclusion.auditPath().forEach(hex -> path.add(MerkleHash.fromHex(hex)));
        MerkleHash root = MerkleHash.fromHex(inclusion.rootHash());
        InclusionProof.of(inclusion.leafIndex(), inclusion.treeSize(), path).verify(MerkleHash.ofLeaf(body), root);
        assertThat(jdbc.sql("select count(*) from audit.tree_head where tree_size = ? and root_hash = ?")
                .params(inclusion.treeSize(), root.toByteArray()).query(Long.class).single())
                .as("the root is a signed tree head's").isEqualTo(1);
    }

    private List<UUID> seed(int count) {
        List<UUID> ids = new ArrayList<>();
        List<AuditEvent> batch = new ArrayList<>();
        String actor = "proof-reuse-" + UUID.randomUUID().toString().substring(0, 8);
        for (int i = 0; i < count; i++) {
            AuditEvent event = AuditEvent.now(actor, AuditAction.DENIED, "/admin/metrics", AuditContext.none(), false,
                    null, null, null);
            ids.add(event.id());
            batch.add(event);
            if (batch.size() == 500) {
                trail.record(batch);
                batch = new ArrayList<>();
            }
        }
        trail.record(batch);
        return ids;
    }
}
