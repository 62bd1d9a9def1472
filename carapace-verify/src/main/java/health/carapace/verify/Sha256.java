package health.carapace.verify;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SHA-256 through the JDK's {@link MessageDigest}, one instance per thread: the verifier hashes
 * millions of small inputs, and {@code MessageDigest.getInstance} on each of them would cost
 * more than the hashing.
 */
final class Sha256 {

    static final int LENGTH = 32;

    private static final ThreadLocal<MessageDigest> DIGEST = ThreadLocal.withInitial(Sha256::newDigest);

    private Sha256() {
    }

    static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            // Every Java SE platform must provide SHA-256 (MessageDigest javadoc).
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /** SHA-256(prefix || data). */
    static byte[] hash(byte prefix, byte[] data) {
        MessageDigest digest = DIGEST.get();
        digest.update(prefix);
        digest.update(data);
        return digest.digest();
    }

    /** SHA-256(prefix || first || second), without concatenating into a new array. */
    static byte[] hash(byte prefix, byte[] first, byte[] second) {
        MessageDigest digest = DIGEST.get();
        digest.update(prefix);
        digest.update(first);
        digest.update(second);
        return digest.digest();
    }

    static byte[] hash(byte[] data) {
        return DIGEST.get().digest(data);
    }
}
