package health.carapace.crypto.internal;

import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.crypto.SystemSecrets;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.function.Supplier;

/** System secrets sealed directly by the KEK, bound to their name as associated data. */
final class KeyringSecrets implements SystemSecrets {

    private final KeyringStore store;
    private final KekRing kek;

    KeyringSecrets(KeyringStore store, KekRing kek) {
        this.store = store;
        this.kek = kek;
    }

    @Override
    public byte[] getOrCreate(String name, Supplier<byte[]> generator) {
        String keyRef = "secret/" + name;
        byte[] associatedData = keyRef.getBytes(StandardCharsets.UTF_8);
        try {
            if (store.find(keyRef).isEmpty()) {
                KeyEncryptionKey active = kek.active();
                store.insertIfAbsent(keyRef, active.id(), kek.encryptWith(active, generator.get(), associatedData));
            }
            KeyringStore.WrappedKey stored = store.find(keyRef).orElseThrow();
            return kek.unwrapping(stored.kekId()).decrypt(stored.wrapped(), associatedData);
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("The system secret '" + name + "' cannot be unwrapped by the KEK", e);
        }
    }
}
