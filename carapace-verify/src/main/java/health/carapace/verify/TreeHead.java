package health.carapace.verify;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What a tree head commits to: the log had {@code treeSize} leaves, their root was
 * {@code rootHash}, at {@code timestampMillis}, under the signing key {@code keyId}. Immutable.
 * A head is only worth something signed: see {@link TreeHeadSigner} and {@link TreeHeadVerifier}.
 *
 * <h2>Signed bytes</h2>
 * The signature covers exactly {@link #toSignedBytes()}, one fixed layout (big-endian):
 * <pre>
 *   offset  length  field
 *        0      21  "carapace-tree-head-v1" (ASCII)  domain separation
 *       21       1  0x01                             encoding version
 *       22       8  tree size                        unsigned, &lt; 2^63
 *       30      32  root hash                        SHA-256, RFC 6962
 *       62       8  timestamp                        milliseconds since 1970-01-01T00:00Z, &ge; 0
 *       70       1  key id length (64)
 *       71      64  key id                           lowercase hex (ASCII)
 *   total      135
 * </pre>
 * The prefix keeps these bytes from meaning anything to another protocol that trusts the same
 * key (and another protocol's bytes from passing as a tree head); every field has a fixed width
 * or a length, so no two heads share an encoding.
 */
public final class TreeHead {

    static final byte[] DOMAIN = "carapace-tree-head-v1".getBytes(StandardCharsets.US_ASCII);
    static final byte VERSION = 0x01;
    private static final Pattern KEY_ID = Pattern.compile("[0-9a-f]{64}");

    private final long treeSize;
    private final MerkleHash rootHash;
    private final long timestampMillis;
    private final String keyId;

    private TreeHead(long treeSize, MerkleHash rootHash, long timestampMillis, String keyId) {
        this.treeSize = treeSize;
        this.rootHash = rootHash;
        this.timestampMillis = timestampMillis;
        this.keyId = keyId;
    }

    /**
     * @param treeSize the number of leaves, &ge; 0
     * @param rootHash the RFC 6962 root of those leaves
     * @param timestampMillis when the head was made, milliseconds since the epoch, &ge; 0
     * @param keyId the id of the signing key: {@link TreeHeadVerifier#keyId()} (64 lowercase hex
     *     digits, the SHA-256 of the public key's SubjectPublicKeyInfo)
     */
    public static TreeHead of(long treeSize, MerkleHash rootHash, long timestampMillis, String keyId) {
        if (treeSize < 0) {
            throw new IllegalArgumentException("tree size must not be negative: " + treeSize);
        }
        Objects.requireNonNull(rootHash, "rootHash");
        if (timestampMillis < 0) {
            throw new IllegalArgumentException("timestamp must not be before 1970: " + timestampMillis);
        }
        Objects.requireNonNull(keyId, "keyId");
        if (!KEY_ID.matcher(keyId).matches()) {
            throw new IllegalArgumentException("a key id is 64 lowercase hex digits");
        }
        return new TreeHead(treeSize, rootHash, timestampMillis, keyId);
    }

    public long treeSize() {
        return treeSize;
    }

    public MerkleHash rootHash() {
        return rootHash;
    }

    public long timestampMillis() {
        return timestampMillis;
    }

    public String keyId() {
        return keyId;
    }

    /** The canonical encoding that is signed; see the class comment. A new array each call. */
    public byte[] toSignedBytes() {
        byte[] keyIdBytes = keyId.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer buffer = ByteBuffer.allocate(DOMAIN.length + 1 + 8 + Sha256.LENGTH + 8 + 1 + keyIdBytes.length);
        buffer.put(DOMAIN);
        buffer.put(VERSION);
        buffer.putLong(treeSize);
        buffer.put(rootHash.toByteArray());
        buffer.putLong(timestampMillis);
        buffer.put((byte) keyIdBytes.length);
        buffer.put(keyIdBytes);
        return buffer.array();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TreeHead that
                && treeSize == that.treeSize && rootHash.equals(that.rootHash)
                && timestampMillis == that.timestampMillis && keyId.equals(that.keyId);
    }

    @Override
    public int hashCode() {
        return Objects.hash(treeSize, rootHash, timestampMillis, keyId);
    }

    @Override
    public String toString() {
        return "TreeHead[treeSize=" + treeSize + ", rootHash=" + rootHash + ", timestamp="
                + Instant.ofEpochMilli(timestampMillis) + ", keyId=" + keyId + "]";
    }
}
