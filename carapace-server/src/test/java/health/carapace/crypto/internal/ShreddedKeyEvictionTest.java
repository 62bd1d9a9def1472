package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.crypto.KeyDestroyedException;
import health.carapace.testing.IntegrationTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * A node that still holds a shredded patient's key in its cache evicts it from the keyring's
 * tombstone, and never makes a new key for that patient: the keyring deletion by another node is
 * simulated by deleting through the store, bypassing this node's cache.
 */
class ShreddedKeyEvictionTest extends IntegrationTest {

    @Autowired
    private PatientKeyring keyring;

    @Autowired
    private KeyringStore store;

    @Autowired
    private KekRing kek;

    @Autowired
    private KeyringProperties properties;

    @Test
    void aKeyShreddedByAnotherNodeIsEvictedHereAndNeverRecreated() {
        String compartment = "Patient/" + UUID.randomUUID();
        byte[] aad = "aad".getBytes(StandardCharsets.UTF_8);
        byte[] ciphertext = keyring.encrypt(compartment, "secret".getBytes(StandardCharsets.UTF_8), aad);
        assertThat(keyring.decrypt(compartment, ciphertext, aad)).asString().isEqualTo("secret"); // cached now

        // Another node shreds: the keyring rows go, this node's cache is untouched.
        assertThat(store.shred(compartment, UUID.randomUUID())).isEqualTo(1);
        // The check every node runs every few seconds (it may already have run: same outcome).
        keyring.evictShredded();

        // Without the eviction the cached key would still decrypt here.
        assertThatThrownBy(() -> keyring.decrypt(compartment, ciphertext, aad)).isInstanceOf(KeyDestroyedException.class);
        assertThatThrownBy(() -> keyring.encrypt(compartment, new byte[1], aad)).isInstanceOf(KeyDestroyedException.class);
        assertThat(store.find(KeyringStore.DEK_PREFIX + compartment)).isEmpty();
        assertThat(PatientKeyring.SHRED_CHECK_INTERVAL).isLessThanOrEqualTo(java.time.Duration.ofSeconds(10));
    }

    @Test
    void aKeyCachedBeforeTheLastCheckIsEvictedWhenItsCompartmentIsShreddedLater() {
        // A node of its own whose clock the test moves: the key must be older than a check's look-back
        // (one interval before the previous check) for only the changed tombstone count to lead to it.
        AtomicLong clock = new AtomicLong();
        KeyringStore nodeStore = new KeyringStore(properties);
        PatientKeyring node = new PatientKeyring(nodeStore, kek, new UsageCounters(nodeStore), properties,
                Duration.ofSeconds(10), clock::get);
        try {
            String compartment = "Patient/" + UUID.randomUUID();
            byte[] aad = "aad".getBytes(StandardCharsets.UTF_8);
            byte[] ciphertext = node.encrypt(compartment, "secret".getBytes(StandardCharsets.UTF_8), aad);
            node.evictShredded();
            clock.addAndGet(PatientKeyring.SHRED_CHECK_INTERVAL.multipliedBy(2).toNanos());
            node.evictShredded(); // nothing shredded: it remembers the count, and its look-back passed the key

            assertThat(store.shred(compartment, UUID.randomUUID())).isEqualTo(1);
            node.evictShredded();

            assertThatThrownBy(() -> node.decrypt(compartment, ciphertext, aad)).isInstanceOf(KeyDestroyedException.class);
        } finally {
            node.close();
            nodeStore.destroy();
        }
    }

    @Test
    void theCheckReachesEveryCachedKeyBeyondOneSlice() {
        byte[] aad = "aad".getBytes(StandardCharsets.UTF_8);
        java.util.List<String> compartments = new java.util.ArrayList<>();
        java.util.List<byte[]> ciphertexts = new java.util.ArrayList<>();
        for (int i = 0; i <= PatientKeyring.SHRED_CHECK_SLICE; i++) {
            String compartment = "Patient/" + UUID.randomUUID();
            compartments.add(compartment);
            ciphertexts.add(keyring.encrypt(compartment, new byte[] {(byte) i}, aad));
        }
        keyring.evictShredded();
        // More than one slice of cached keys, all shredded by another node: every slice must be looked up.
        for (String compartment : compartments) {
            assertThat(store.shred(compartment, UUID.randomUUID())).isEqualTo(1);
        }

        keyring.evictShredded();
        for (int i = 0; i < compartments.size(); i++) {
            int index = i;
            assertThatThrownBy(() -> keyring.decrypt(compartments.get(index), ciphertexts.get(index), aad))
                    .isInstanceOf(KeyDestroyedException.class);
        }
    }

    @Test
    void onlyPatientCompartmentsCanBeShredded() {
        assertThatThrownBy(() -> keyring.shred("shared", UUID.randomUUID())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> keyring.shred("Patient/%", UUID.randomUUID())).isInstanceOf(IllegalArgumentException.class);
    }
}
