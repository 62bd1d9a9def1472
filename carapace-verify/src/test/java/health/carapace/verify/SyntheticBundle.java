package health.carapace.verify;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds audit bundles of synthetic events the way the server's export will: a log of leaves,
 * tree heads signed at increasing sizes, consistency proofs between them, and each event of the
 * range proved against the first head that includes it.
 */
final class SyntheticBundle {

    static final long FIRST_TIMESTAMP = 1_767_225_600_000L; // 2026-01-01T00:00:00Z

    final MerkleTree tree;
    final List<SignedTreeHead> heads;

    private SyntheticBundle(MerkleTree tree, List<SignedTreeHead> heads) {
        this.tree = tree;
        this.heads = heads;
    }

    /** A log of {@code events} synthetic events with heads signed by {@code signer} at {@code headSizes}. */
    static SyntheticBundle log(int events, List<Long> headSizes, TreeHeadSigner signer) throws GeneralSecurityException {
        // Leaf bytes are regenerated when written, so that a large bundle does not hold them all.
        List<MerkleHash> leafHashes = new ArrayList<>(events);
        for (int i = 0; i < events; i++) {
            leafHashes.add(MerkleHash.ofLeaf(event(i)));
        }
        MerkleTree tree = MerkleTree.ofLeafHashes(leafHashes);
        List<SignedTreeHead> heads = new ArrayList<>();
        for (int i = 0; i < headSizes.size(); i++) {
            long size = headSizes.get(i);
            heads.add(signer.sign(TreeHead.of(size, tree.rootAt(size), FIRST_TIMESTAMP + 1000L * i, signer.keyId())));
        }
        return new SyntheticBundle(tree, heads);
    }

    /** Writes the bundle of events [first, end) to {@code directory}. */
    Path write(Path directory, TreeHeadVerifier publicKey, long first, long end) throws IOException {
        try (BundleWriter writer = BundleWriter.create(directory, publicKey, first, end)) {
            for (SignedTreeHead head : heads) {
                writer.addTreeHead(head);
            }
            for (int i = 0; i + 1 < heads.size(); i++) {
                writer.addConsistencyProof(
                        tree.consistencyProof(heads.get(i).head().treeSize(), heads.get(i + 1).head().treeSize()));
            }
            for (long index = first; index < end; index++) {
                writer.addEvent(index, event((int) index), tree.inclusionProof(index, provingSize(index)));
            }
        }
        return directory;
    }

    /** The size of the first head that includes leaf {@code index}. */
    long provingSize(long index) {
        for (SignedTreeHead head : heads) {
            if (head.head().treeSize() > index) {
                return head.head().treeSize();
            }
        }
        throw new IllegalArgumentException("no head includes leaf " + index);
    }

    /** The first {@code count} events of the log. */
    static List<byte[]> events(int count) {
        List<byte[]> events = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            events.add(event(i));
        }
        return events;
    }

    /** An audit event as the server records it: references only, no PHI. */
    static byte[] event(int i) {
        String json = "{\"timestamp\":\"2026-01-01T00:" + String.format("%02d:%02d", i / 60 % 60, i % 60)
                + "Z\",\"user\":\"clinician-" + (i % 37) + "@example.test\",\"action\":\""
                + (i % 5 == 0 ? "modified" : "viewed") + "\",\"resource\":\"/fhir/Observation/" + (100_000 + i)
                + "\",\"outcome\":\"success\",\"request_id\":\"req-" + i + "\",\"context\":{\"ip\":\"10.0."
                + (i % 250) + ".7\",\"device_id\":\"UA-" + (i % 11) + "\"}}";
        return json.getBytes(StandardCharsets.UTF_8);
    }
}
