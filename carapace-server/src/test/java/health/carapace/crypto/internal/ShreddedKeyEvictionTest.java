package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.crypto.KeyDestroyedException;
import health.carapace.testing.IntegrationTest;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
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
    void onlyPatientCompartmentsCanBeShredded() {
        assertThatThrownBy(() -> keyring.shred("shared", UUID.randomUUID())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> keyring.shred("Patient/%", UUID.randomUUID())).isInstanceOf(IllegalArgumentException.class);
    }
}
