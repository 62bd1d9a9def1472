package health.carapace.verify;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
            int rootsRebuilt = checkEvents(files, manifest, heads);
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

    /**
     * Every event of the manifest's range, once and in order, each included in a signed head.
     * When the range starts at leaf 0, the heads' roots are also rebuilt from the events, which
     * needs no proof at all.
     *
     * @return how many heads' roots were rebuilt
     */
    private static int checkEvents(BundleFiles files, BundleFormat.Manifest manifest, List<SignedTreeHead> heads)
            throws IOException, BundleVerificationException {
        long largest = heads.get(heads.size() - 1).head().treeSize();
        if (manifest.endLeafIndex() > largest) {
            throw new BundleVerificationException(BundleFormat.MANIFEST, 0, "the range ends at leaf "
                    + (manifest.endLeafIndex() - 1) + ", but the latest signed tree head covers only " + largest
                    + " leaves");
        }
        // Equal sizes have equal roots: checkConsistency has made sure of it.
        Map<Long, MerkleHash> rootBySize = new HashMap<>();
        for (SignedTreeHead head : heads) {
            rootBySize.put(head.head().treeSize(), head.head().rootHash());
        }
        MerkleAccumulator rebuilt = manifest.firstLeafIndex() == 0 ? new MerkleAccumulator() : null;
        int nextHead = 0;
        while (nextHead < heads.size() && heads.get(nextHead).head().treeSize() == 0) {
            nextHead++;
        }
        int rootsRebuilt = 0;

        long expected = manifest.firstLeafIndex();
        try (JsonLines events = new JsonLines(files, BundleFormat.EVENTS);
                JsonLines proofs = new JsonLines(files, BundleFormat.PROOFS)) {
            for (byte[] text = events.next(); text != null; text = events.next()) {
                BundleFormat.Event event = BundleFormat.parseEvent(events.number(), text);
                long index = event.leafIndex();
                if (index != expected) {
                    throw events.failure("leaf index " + index + " where " + expected + " was expected: "
                            + (index > expected
                                    ? "event" + range(expected, index - 1) + " missing or out of order"
                                    : "events out of order or repeated"));
                }
                if (index >= manifest.endLeafIndex()) {
                    throw events.failure("leaf index " + index + " is beyond the range of the manifest, which ends at "
                            + (manifest.endLeafIndex() - 1));
                }

                byte[] proofText = proofs.next();
                if (proofText == null) {
                    throw proofs.failure("ends before the proof for leaf " + index + " (events.jsonl line "
                            + events.number() + ")");
                }
                BundleFormat.EventProof proof = BundleFormat.parseProof(proofs.number(), proofText);
                if (proof.leafIndex() != index) {
                    throw proofs.failure("proves leaf " + proof.leafIndex() + ", but events.jsonl line "
                            + events.number() + " holds leaf " + index);
                }
                MerkleHash root = rootBySize.get(proof.treeSize());
                if (root == null) {
                    throw proofs.failure("tree size " + proof.treeSize() + " is not the size of a signed tree head");
                }
                if (index >= proof.treeSize()) {
                    throw proofs.failure("leaf " + index + " is not in a tree of size " + proof.treeSize());
                }
                MerkleHash leafHash = MerkleHash.ofLeaf(event.leaf());
                try {
                    InclusionProof.of(index, proof.treeSize(), proof.auditPath()).verify(leafHash, root);
                } catch (VerificationException e) {
                    throw events.failure("leaf " + index + " is not the leaf that the signed tree head of size "
                            + proof.treeSize() + " holds at that index (or its proof, proofs.jsonl line "
                            + proofs.number() + ", is damaged): " + e.getMessage(), e);
                }

                if (rebuilt != null) {
                    rebuilt.appendLeafHash(leafHash);
                    while (nextHead < heads.size() && heads.get(nextHead).head().treeSize() == rebuilt.size()) {
                        TreeHead head = heads.get(nextHead).head();
                        MerkleHash rebuiltRoot = rebuilt.root();
                        if (!rebuiltRoot.equals(head.rootHash())) {
                            throw events.failure("the events from leaf 0 to " + index + " rebuild root " + rebuiltRoot
                                    + ", but the signed tree head of size " + head.treeSize() + " (tree-heads.jsonl line "
                                    + (nextHead + 1) + ") has root " + head.rootHash());
                        }
                        rootsRebuilt++;
                        nextHead++;
                    }
                }
                expected++;
            }
            if (expected != manifest.endLeafIndex()) {
                throw events.failure("the events end before the range of the manifest does: event"
                        + range(expected, manifest.endLeafIndex() - 1) + " missing");
            }
            if (proofs.next() != null) {
                throw proofs.failure("more proofs than events");
            }
        }
        return rootsRebuilt;
    }

    private static String range(long from, long to) {
        return from == to ? " " + from + " is" : "s " + from + " to " + to + " are";
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

    /**
     * A JSON Lines file read one line at a time, counting lines for the error messages. Every
     * value in the format is hex, base64 or a number, so a line must be ASCII; it is handed to
     * Jackson as bytes, without decoding it into a String first.
     */
    private static final class JsonLines implements AutoCloseable {
        /** Far above any real line; keeps a corrupt file from exhausting memory. */
        private static final int MAX_LINE = 16 * 1024 * 1024;

        private final String name;
        private final InputStream in;
        private final byte[] buffer = new byte[64 * 1024];
        private int position;
        private int limit;
        private byte[] line = new byte[1024];
        private long number;

        JsonLines(BundleFiles files, String name) throws IOException {
            this.name = name;
            this.in = files.openStream(name);
        }

        /** The next line without its line end, or null at the end of the file. */
        byte[] next() throws IOException, BundleVerificationException {
            number++;
            int length = 0;
            boolean read = false;
            while (true) {
                if (position == limit) {
                    int count = in.read(buffer);
                    position = 0;
                    limit = Math.max(count, 0);
                    if (count <= 0) {
                        return read ? finish(length) : null;
                    }
                }
                read = true;
                int start = position;
                while (position < limit && buffer[position] != '\n') {
                    position++;
                }
                length = append(length, start, position - start);
                if (position < limit) {
                    position++; // the newline
                    if (length > 0 && line[length - 1] == '\r') {
                        length--;
                    }
                    return finish(length);
                }
            }
        }

        private int append(int length, int start, int count) throws BundleVerificationException {
            if (length + count > MAX_LINE) {
                throw failure("longer than " + MAX_LINE + " bytes");
            }
            if (length + count > line.length) {
                line = Arrays.copyOf(line, Math.min(MAX_LINE, Math.max(2 * line.length, length + count)));
            }
            System.arraycopy(buffer, start, line, length, count);
            return length + count;
        }

        private byte[] finish(int length) throws BundleVerificationException {
            boolean blank = true;
            for (int i = 0; i < length; i++) {
                byte b = line[i];
                if (b < 0) {
                    throw failure("not ASCII (byte " + (i + 1) + ")");
                }
                blank &= b == ' ' || b == '\t';
            }
            if (blank) {
                throw failure("empty line");
            }
            return Arrays.copyOf(line, length);
        }

        /** The number of the line last returned by {@link #next()} (past the end: one more than the last). */
        long number() {
            return number;
        }

        BundleVerificationException failure(String problem) {
            return new BundleVerificationException(name, number, problem);
        }

        BundleVerificationException failure(String problem, Throwable cause) {
            return new BundleVerificationException(name, number, problem, cause);
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
