package health.carapace.signin.internal;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.subtle.AesGcmJce;
import health.carapace.crypto.SystemSecrets;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.UUID;

/**
 * Seals TOTP seeds for storage: AES-256-GCM (Tink) under a key kept in the keyring, wrapped by
 * the KEK, so a copy of the database alone does not yield anyone's second factor. The user id is
 * the associated data: a sealed seed copied onto another account does not open.
 */
final class TotpSeals {

    private final Aead aead;
    private final int keyBits;

    TotpSeals(SystemSecrets secrets) {
        byte[] key = secrets.getOrCreate("totp-seal-key", () -> {
            byte[] fresh = new byte[32];
            new SecureRandom().nextBytes(fresh);
            return fresh;
        });
        try {
            this.aead = new AesGcmJce(key);
            this.keyBits = key.length * 8;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the TOTP sealing key is unusable", e);
        }
    }

    /** The sealing key's size, for the algorithm check (AES-GCM). */
    int keyBits() {
        return keyBits;
    }

    byte[] seal(UUID userId, byte[] seed) {
        try {
            return aead.encrypt(seed, associatedData(userId));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot seal a TOTP seed", e);
        }
    }

    byte[] open(UUID userId, byte[] sealed) {
        try {
            return aead.decrypt(sealed, associatedData(userId));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("a stored TOTP seed does not open under the sealing key", e);
        }
    }

    private static byte[] associatedData(UUID userId) {
        return ("totp/" + userId).getBytes(StandardCharsets.UTF_8);
    }
}
