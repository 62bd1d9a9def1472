package health.carapace.verify;

import java.util.Arrays;
import java.util.Objects;

/**
 * A {@link TreeHead} and the Ed25519 signature over its {@link TreeHead#toSignedBytes()}.
 * Immutable. Holding one proves nothing until {@link TreeHeadVerifier#verify} accepts it.
 */
public final class SignedTreeHead {

    /** An Ed25519 signature is 64 bytes (RFC 8032 section 5.1.6). */
    public static final int SIGNATURE_LENGTH = 64;

    private final TreeHead head;
    private final byte[] signature;

    private SignedTreeHead(TreeHead head, byte[] signature) {
        this.head = head;
        this.signature = signature;
    }

    public static SignedTreeHead of(TreeHead head, byte[] signature) {
        Objects.requireNonNull(head, "head");
        Objects.requireNonNull(signature, "signature");
        if (signature.length != SIGNATURE_LENGTH) {
            throw new IllegalArgumentException(
                    "an Ed25519 signature is " + SIGNATURE_LENGTH + " bytes, not " + signature.length);
        }
        return new SignedTreeHead(head, signature.clone());
    }

    public TreeHead head() {
        return head;
    }

    /** A copy of the 64 signature bytes. */
    public byte[] signature() {
        return signature.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof SignedTreeHead that && head.equals(that.head) && Arrays.equals(signature, that.signature);
    }

    @Override
    public int hashCode() {
        return 31 * head.hashCode() + Arrays.hashCode(signature);
    }

    @Override
    public String toString() {
        return "SignedTreeHead[" + head + "]";
    }
}
