package health.carapace.crypto;

import java.util.function.Supplier;

/**
 * Non-PHI secrets the server needs across restarts (for example the token signing key),
 * stored in the keyring wrapped by the {@link KeyEncryptionKey}.
 */
public interface SystemSecrets {

    /** Returns the secret stored under {@code name}, generating and storing it on first use. */
    byte[] getOrCreate(String name, Supplier<byte[]> generator);
}
