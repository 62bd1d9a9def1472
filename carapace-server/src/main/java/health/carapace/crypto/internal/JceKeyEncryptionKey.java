package health.carapace.crypto.internal;

import health.carapace.crypto.KeyEncryptionKey;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.Provider;

/** A KEK whose wrapping is AES-GCM performed by the JCA provider that holds the key. */
abstract class JceKeyEncryptionKey implements KeyEncryptionKey {

    private final JceGcmAead aead;

    JceKeyEncryptionKey(Key key, Provider provider) {
        this.aead = new JceGcmAead(key, provider);
    }

    @Override
    public final byte[] encrypt(byte[] plaintext, byte[] associatedData) throws GeneralSecurityException {
        return aead.encrypt(plaintext, associatedData);
    }

    @Override
    public final byte[] decrypt(byte[] ciphertext, byte[] associatedData) throws GeneralSecurityException {
        return aead.decrypt(ciphertext, associatedData);
    }
}
