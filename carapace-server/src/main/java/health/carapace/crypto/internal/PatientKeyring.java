package health.carapace.crypto.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.crypto.RecordCipher;
import health.carapace.crypto.RecordIntegrityException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;

/**
 * One Tink AES256_GCM keyset per compartment, wrapped by the KEK in the keyring, unwrapped on
 * demand into a bounded, time-limited cache.
 */
final class PatientKeyring implements RecordCipher {

    private final KeyringStore store;
    private final KeyEncryptionKey kek;
    private final Cache<String, Aead> unwrapped;

    PatientKeyring(KeyringStore store, KeyEncryptionKey kek, KeyringProperties properties) {
        this.store = store;
        this.kek = kek;
        this.unwrapped = Caffeine.newBuilder()
                .maximumSize(properties.dekCacheSize())
                .expireAfterAccess(properties.dekCacheTtl())
                .build();
    }

    @Override
    public byte[] encrypt(String compartment, byte[] plaintext, byte[] associatedData) {
        try {
            return aead(compartment, true).encrypt(plaintext, associatedData);
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("Encryption failed for a record key", e);
        }
    }

    @Override
    public byte[] decrypt(String compartment, byte[] ciphertext, byte[] associatedData) {
        Aead aead = aead(compartment, false);
        try {
            return aead.decrypt(ciphertext, associatedData);
        } catch (GeneralSecurityException e) {
            throw new RecordIntegrityException("A stored record failed authentication", e);
        }
    }

    private Aead aead(String compartment, boolean createIfMissing) {
        Aead cached = unwrapped.getIfPresent(compartment);
        if (cached != null) {
            return cached;
        }
        String keyRef = "dek/" + compartment;
        byte[] associatedData = keyRef.getBytes(StandardCharsets.UTF_8);
        var wrapped = store.find(keyRef);
        if (wrapped.isEmpty()) {
            if (!createIfMissing) {
                throw new KeyUnavailableException("No data key exists for a record's compartment");
            }
            try {
                KeysetHandle fresh = KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM);
                store.insertIfAbsent(keyRef, kek.id(),
                        TinkProtoKeysetFormat.serializeEncryptedKeyset(fresh, kek, associatedData));
            } catch (GeneralSecurityException e) {
                throw new KeyUnavailableException("Cannot create and wrap a data key", e);
            }
            wrapped = store.find(keyRef);
        }
        try {
            KeysetHandle handle = TinkProtoKeysetFormat.parseEncryptedKeyset(
                    wrapped.orElseThrow().wrapped(), kek, associatedData);
            Aead aead = handle.getPrimitive(RegistryConfiguration.get(), Aead.class);
            unwrapped.put(compartment, aead);
            return aead;
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("A data key cannot be unwrapped by the KEK "
                    + wrapped.get().kekId() + " (wrong or missing KEK?)", e);
        }
    }
}
