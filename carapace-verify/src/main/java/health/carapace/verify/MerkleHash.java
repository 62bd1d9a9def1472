package health.carapace.verify;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A 32-byte SHA-256 value in an RFC 6962 Merkle tree: a leaf hash, an interior node hash or a
 * tree root. Immutable; the bytes are copied in and out.
 *
 * <p>The hashing is RFC 6962 section 2.1 (also RFC 9162 section 2.1.1): a leaf is hashed as
 * {@code SHA-256(0x00 || leaf)} and an interior node as {@code SHA-256(0x01 || left || right)}.
 * The two prefixes keep a leaf from ever being taken for a node (a second-preimage attack would
 * otherwise let someone present two hashes as one leaf).
 */
public final class MerkleHash {

    private static final byte LEAF_PREFIX = 0x00;
    static final byte NODE_PREFIX = 0x01;
    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] HEX_DIGITS = new byte['f' + 1];

    static {
        Arrays.fill(HEX_DIGITS, (byte) -1);
        for (int i = 0; i < 10; i++) {
            HEX_DIGITS['0' + i] = (byte) i;
        }
        for (int i = 0; i < 6; i++) {
            HEX_DIGITS['a' + i] = (byte) (10 + i);
            HEX_DIGITS['A' + i] = (byte) (10 + i);
        }
    }

    private static final MerkleHash EMPTY_TREE = new MerkleHash(Sha256.hash(new byte[0]));

    private final byte[] bytes;

    private MerkleHash(byte[] bytes) {
        this.bytes = bytes;
    }

    /** The hash of one leaf: {@code SHA-256(0x00 || leafData)}. */
    public static MerkleHash ofLeaf(byte[] leafData) {
        Objects.requireNonNull(leafData, "leafData");
        return new MerkleHash(Sha256.hash(LEAF_PREFIX, leafData));
    }

    /** The hash of an interior node: {@code SHA-256(0x01 || left || right)}. */
    public static MerkleHash ofChildren(MerkleHash left, MerkleHash right) {
        return new MerkleHash(Sha256.hash(NODE_PREFIX, left.bytes, right.bytes));
    }

    /** The root of the tree with no leaves: {@code SHA-256("")}. */
    public static MerkleHash emptyTree() {
        return EMPTY_TREE;
    }

    /** A hash received as bytes; exactly 32 of them. */
    public static MerkleHash fromBytes(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        if (bytes.length != Sha256.LENGTH) {
            throw new IllegalArgumentException(
                    "a Merkle hash is " + Sha256.LENGTH + " bytes, not " + bytes.length);
        }
        return new MerkleHash(bytes.clone());
    }

    /** A hash received as 64 hexadecimal digits (either case). */
    public static MerkleHash fromHex(String hex) {
        Objects.requireNonNull(hex, "hex");
        if (hex.length() != 2 * Sha256.LENGTH) {
            throw new IllegalArgumentException(
                    "a Merkle hash is " + 2 * Sha256.LENGTH + " hex digits, not " + hex.length());
        }
        // A table rather than HexFormat.parseHex: the bundle verifier decodes twenty of these per
        // event, and on JDK 17 HexFormat was its largest cost after JSON parsing.
        byte[] bytes = new byte[Sha256.LENGTH];
        for (int i = 0; i < Sha256.LENGTH; i++) {
            int high = hexDigit(hex.charAt(2 * i));
            int low = hexDigit(hex.charAt(2 * i + 1));
            bytes[i] = (byte) (high << 4 | low);
        }
        return new MerkleHash(bytes);
    }

    private static int hexDigit(char c) {
        int value = c < HEX_DIGITS.length ? HEX_DIGITS[c] : -1;
        if (value < 0) {
            throw new IllegalArgumentException("not a hex digit in a Merkle hash");
        }
        return value;
    }

    /** A copy of the 32 bytes. */
    public byte[] toByteArray() {
        return bytes.clone();
    }

    /** 64 lowercase hexadecimal digits. */
    public String toHex() {
        return HEX.formatHex(bytes);
    }

    @Override
    public boolean equals(Object other) {
        // Constant time out of habit: these values are public, but a comparison that leaks
        // the position of the first difference is never needed.
        return other instanceof MerkleHash that && MessageDigest.isEqual(bytes, that.bytes);
    }

    @Override
    public int hashCode() {
        return (bytes[0] & 0xff) << 24 | (bytes[1] & 0xff) << 16 | (bytes[2] & 0xff) << 8 | (bytes[3] & 0xff);
    }

    @Override
    public String toString() {
        return toHex();
    }
}
