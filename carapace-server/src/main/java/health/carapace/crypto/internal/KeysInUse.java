package health.carapace.crypto.internal;

import health.carapace.crypto.EncryptedStore;
import health.carapace.crypto.RecordCipher;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which data keys stored ciphertexts still name: the one place that decides it, because a key
 * left out here is destroyed by the DEK rotation job and every record under it becomes
 * unrecoverable. Each {@link EncryptedStore} reads its own table and hands over the Tink prefix (version
 * byte and key id, see {@link RecordCipher#keyIdOf}) of its ciphertexts; this decides what they name.
 */
final class KeysInUse {

    /** Bytes of a Tink ciphertext's output prefix: one version byte and the four-byte key id. */
    private static final int TINK_PREFIX = 5;

    KeysInUse() {
    }

    /**
     * Key ids named per compartment, over every store; crypto-shredded compartments are left out.
     *
     * @param compartment only this compartment, or null for all
     */
    Map<String, Set<Integer>> named(List<EncryptedStore> stores, String compartment) {
        Map<String, Set<Integer>> inUse = new HashMap<>();
        for (EncryptedStore store : stores) {
            store.scanKeyPrefixes(compartment, TINK_PREFIX, (storedIn, prefix) -> {
                Integer keyId = RecordCipher.keyIdOf(prefix);
                if (keyId != null) {
                    inUse.computeIfAbsent(storedIn, k -> new HashSet<>()).add(keyId);
                }
            });
        }
        return inUse;
    }
}
