package health.carapace.verify;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Verifies an audit export bundle offline, trusting nothing but one Ed25519 public key. The
 * bundle format and what each check defends against are in this module's README.md. Stops at
 * the first failure and says where it is. Immutable and thread-safe.
 *
 * <p>Streams the events: memory grows with the number of tree heads, not of events.
 */
public final class BundleVerifier {

    private static final int MAX_SMALL_FILE = 64 * 1024;

    private final TreeHeadVerifier trustedKey;

    private BundleVerifier(TreeHeadVerifier trustedKey) {
        this.trustedKey = trustedKey;
    }

    /**
     * A verifier that accepts only tree heads signed by {@code trustedKey}. The key must come
     * from somewhere the bundle's author does not control (the organisation's published key);
     * see {@link #readBundlePublicKey}.
     */
    public static BundleVerifier trusting(TreeHeadVerifier trustedKey) {
        return new BundleVerifier(Objects.requireNonNull(trustedKey, "trustedKey"));
    }

    /**
     * The public key the bundle carries in {@code public-key.pem}. Verifying with it proves only
     * that the bundle is consistent with itself: whoever wrote the bundle chose that key. Compare
     * its {@link TreeHeadVerifier#keyId()} with the published one, or trust a key from elsewhere.
     */
    public static TreeHeadVerifier readBundlePublicKey(Path bundle)
            throws IOException, BundleVerificationException {
        try (BundleFiles files = BundleFiles.open(bundle)) {
            return readPublicKey(files);
        }
    }

    /**
     * Verifies the bundle at {@code bundle} (a directory, or a .zip of one).
     *
     * @return what was established
     * @throws BundleVerificationException at the first check that fails, naming file and line
     * @throws IOException if the bundle cannot be read at all
     */
    public BundleReport verify(Path bundle) throws IOException, BundleVerificationException {
        try (BundleFiles files = BundleFiles.open(bundle)) {
            for (String name : List.of(BundleFormat.MANIFEST, BundleFormat.PUBLIC_KEY, BundleFormat.TREE_HEADS,
                    BundleFormat.CONSISTENCY, BundleFormat.EVENTS, BundleFormat.PROOFS)) {
                if (!files.exists(name)) {
                    throw new BundleVerificationException(name, 0, "missing from the bundle");
                }
            }
            BundleFormat.Manifest manifest = BundleFormat.parseManifest(
                    readSmallFile(files, BundleFormat.MANIFEST));
            checkPublicKeyFile(files);
            List<SignedTreeHead> heads = readTreeHeads(files);
            checkConsistency(files, heads);
            int rootsRebuilt = EventVerification.check(files, manifest, heads);
            TreeHead first = heads.get(0).head();
            TreeHead last = heads.get(heads.size() - 1).head();
            return new BundleReport(trustedKey.keyId(), heads.size(), first.treeSize(), last.treeSize(),
                    first.timestampMillis(), last.timestampMillis(), manifest.firstLeafIndex(),
                    manifest.endLeafIndex(), rootsRebuilt);
        }
    }

    private void checkPublicKeyFile(BundleFiles files) throws IOException, BundleVerificationException {
        // Not a security check (the signatures are); an exporter that wrote the wrong key has a bug
        // an auditor should hear about.
        TreeHeadVerifier bundleKey = readPublicKey(files);
        if (!bundleKey.keyId().equals(trustedKey.keyId())) {
            throw new BundleVerificationException(BundleFormat.PUBLIC_KEY, 0, "holds key " + bundleKey.keyId()
                    + ", not the trusted key " + trustedKey.keyId());
        }
    }

    /** Every head: well formed, signed by the trusted key, never smaller or older than the one before. */
    private List<SignedTreeHead> readTreeHeads(BundleFiles files) throws IOException, BundleVerificationException {
        List<SignedTreeHead> heads = new ArrayList<>();
        try (JsonLines lines = new JsonLines(files, BundleFormat.TREE_HEADS)) {
            TreeHead previous = null;
            for (byte[] text = lines.next(); text != null; text = lines.next()) {
                SignedTreeHead signed = BundleFormat.parseTreeHead(lines.number(), text);
                try {
                    trustedKey.verify(signed);
                } catch (VerificationException e) {
                    throw lines.failure(e.getMessage(), e);
                }
                TreeHead head = signed.head();
                if (head.treeSize() == 0 && !head.rootHash().equals(MerkleHash.emptyTree())) {
                    throw lines.failure("a tree of size 0 must have the empty-tree root");
                }
                if (previous != null && head.treeSize() < previous.treeSize()) {
                    throw lines.failure("tree size " + head.treeSize() + " is smaller than the previous head's "
                            + previous.treeSize() + ": the log went backwards");
                }
                if (previous != null && head.timestampMillis() < previous.timestampMillis()) {
                    throw lines.failure("timestamp " + head.timestampMillis()
                            + " is earlier than the previous head's " + previous.timestampMillis());
                }
                heads.add(signed);
                previous = head;
            }
            if (heads.isEmpty()) {
                throw new BundleVerificationException(BundleFormat.TREE_HEADS, 0, "holds no tree heads");
            }
        }
        return heads;
    }

    /** Line i proves head i+1 extends head i: no signed history was rewritten between them. */
    private static void checkConsistency(BundleFiles files, List<SignedTreeHead> heads)
            throws IOException, BundleVerificationException {
        try (JsonLines lines = new JsonLines(files, BundleFormat.CONSISTENCY)) {
            for (int i = 0; i + 1 < heads.size(); i++) {
                TreeHead older = heads.get(i).head();
                TreeHead newer = heads.get(i + 1).head();
                byte[] text = lines.next();
                if (text == null) {
                    throw lines.failure("ends after " + (lines.number() - 1) + " lines; there must be one for each of the "
                            + (heads.size() - 1) + " pairs of consecutive tree heads");
                }
                ConsistencyProof proof = BundleFormat.parseConsistency(lines.number(), text);
                if (proof.oldSize() != older.treeSize() || proof.newSize() != newer.treeSize()) {
                    throw lines.failure("proves tree size " + proof.oldSize() + " to " + proof.newSize()
                            + ", but tree-heads.jsonl lines " + (i + 1) + " and " + (i + 2) + " have sizes "
                            + older.treeSize() + " and " + newer.treeSize());
                }
                try {
                    proof.verify(older.rootHash(), newer.rootHash());
                } catch (VerificationException e) {
                    throw lines.failure("tree-heads.jsonl lines " + (i + 1) + " and " + (i + 2)
                            + " are not consistent: " + e.getMessage(), e);
                }
            }
            if (lines.next() != null) {
                throw lines.failure("more lines than pairs of consecutive tree heads (" + (heads.size() - 1) + ")");
            }
        }
    }

    private static TreeHeadVerifier readPublicKey(BundleFiles files) throws IOException, BundleVerificationException {
        if (!files.exists(BundleFormat.PUBLIC_KEY)) {
            throw new BundleVerificationException(BundleFormat.PUBLIC_KEY, 0, "missing from the bundle");
        }
        try {
            return TreeHeadVerifier.fromPem(readSmallFile(files, BundleFormat.PUBLIC_KEY));
        } catch (IllegalArgumentException e) {
            throw new BundleVerificationException(BundleFormat.PUBLIC_KEY, 0, e.getMessage(), e);
        }
    }

    private static String readSmallFile(BundleFiles files, String name) throws IOException, BundleVerificationException {
        byte[] bytes;
        try (InputStream in = files.openStream(name)) {
            bytes = in.readNBytes(MAX_SMALL_FILE + 1);
        }
        if (bytes.length > MAX_SMALL_FILE) {
            throw new BundleVerificationException(name, 0, "larger than " + MAX_SMALL_FILE + " bytes");
        }
        for (byte b : bytes) {
            if (b < 0) {
                throw new BundleVerificationException(name, 0, "not ASCII");
            }
        }
        return new String(bytes, StandardCharsets.US_ASCII);
    }
}
