package health.carapace.crypto;

import com.google.crypto.tink.Aead;

/**
 * The key-encryption key (KEK) at the top of the key hierarchy. It only ever wraps other keys
 * (patient DEK keysets, the index root key, signing keys); it never touches PHI directly.
 *
 * <p>Implementations keep the key material where it belongs: inside the HSM token for
 * {@code pkcs11}, inside a passphrase-protected keystore for {@code dev-keystore}.
 */
public interface KeyEncryptionKey extends Aead {

    /** Stable identifier stored beside every key it wraps, e.g. {@code pkcs11/carapace-kek}. */
    String id();
}
