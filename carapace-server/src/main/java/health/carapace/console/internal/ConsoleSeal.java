package health.carapace.console.internal;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.subtle.AesGcmJce;
import health.carapace.crypto.SystemSecrets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Optional;

/**
 * Seals what the console keeps outside the process (its sessions' tokens in the database, the
 * half-finished sign-in in a cookie): AES-256-GCM (Tink) under a key of its own in the keyring,
 * wrapped by the KEK. Each use names its context as associated data, so a sealed value moved
 * elsewhere (another row, the other cookie) does not open.
 */
final class ConsoleSeal {

    private final Aead aead;

    ConsoleSeal(SystemSecrets secrets) {
        byte[] key = secrets.getOrCreate("console-session-key", () -> {
            byte[] fresh = new byte[32];
            new SecureRandom().nextBytes(fresh);
            return fresh;
        });
        try {
            this.aead = new AesGcmJce(key);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the console session key is unusable", e);
        }
    }

    byte[] seal(byte[] plain, byte[] context) {
        try {
            return aead.encrypt(plain, context);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot seal console state", e);
        }
    }

    /** The plain bytes, or empty when the value was not sealed here for this context (or was altered). */
    Optional<byte[]> open(byte[] sealed, byte[] context) {
        try {
            return Optional.of(aead.decrypt(sealed, context));
        } catch (GeneralSecurityException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
