package health.carapace.signin.internal;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.subtle.AesGcmJce;
import health.carapace.crypto.SystemSecrets;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Optional;

/**
 * Seals the sign-in state that every node shares through the database (issued authorizations,
 * the sign-in pages' browser session and its cookie): AES-256-GCM (Tink) under a key kept in the
 * keyring, wrapped by the KEK, so a copy of the PHI database alone yields no token, no code and no
 * half-finished sign-in. Each use names its context as associated data, so a sealed value moved
 * from one place to another does not open.
 */
final class SignInStateSeal {

    private final Aead aead;

    SignInStateSeal(SystemSecrets secrets) {
        byte[] key = secrets.getOrCreate("sign-in-state-key", () -> {
            byte[] fresh = new byte[32];
            new SecureRandom().nextBytes(fresh);
            return fresh;
        });
        try {
            this.aead = new AesGcmJce(key);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the sign-in state key is unusable", e);
        }
    }

    byte[] seal(byte[] plain, String context) {
        try {
            return aead.encrypt(plain, context.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot seal sign-in state", e);
        }
    }

    /** The plain bytes, or empty when the value was not sealed here for this context (or was altered). */
    Optional<byte[]> open(byte[] sealed, String context) {
        try {
            return Optional.of(aead.decrypt(sealed, context.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
