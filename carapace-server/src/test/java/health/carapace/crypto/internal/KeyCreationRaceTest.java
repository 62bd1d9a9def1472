package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import health.carapace.crypto.KeyDestroyedException;
import health.carapace.crypto.RecordCipher;
import health.carapace.testing.IntegrationTest;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * A patient's first data key is made by whichever node writes first, with fewer round trips
 * (issue 13 item 5, ADR 0052): the key and the tombstone asked in one statement, the compartment
 * lock and the insert sent together. What must not change: one keyset per patient even when two
 * nodes write the first record at once, and no key ever for a shredded patient, even one whose
 * tombstone is committed while the key waits for the compartment lock.
 */
class KeyCreationRaceTest extends IntegrationTest {

    @Autowired
    private PatientKeyring keyring;

    @Autowired
    private KeyringStore store;

    @Autowired
    private KekRing kek;

    @Autowired
    private KeyringProperties properties;

    /** The way a first key is stored (ADR 0057): alone here unless a test queues several at once. */
    private FirstKeyGroupCommit firstKeys;

    @BeforeEach
    void firstKeys() {
        firstKeys = new FirstKeyGroupCommit(store, PatientKeyring.FIRST_KEYS_PER_COMMIT, Duration.ofSeconds(30));
    }

    @AfterEach
    void closeFirstKeys() {
        firstKeys.close();
    }

    @Test
    void twoNodesWritingOnePatientsFirstRecordAtOnceBothUseTheOneStoredKeyset() throws Exception {
        // A second node: its own keyring pool and cache, the same keyring database and KEK.
        KeyringStore otherStore = new KeyringStore(properties);
        PatientKeyring other = new PatientKeyring(otherStore, kek, new UsageCounters(otherStore), properties,
                Duration.ofSeconds(10));
        ExecutorService nodes = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 30; round++) {
                String compartment = "Patient/" + UUID.randomUUID();
                byte[] aad = ("aad-" + round).getBytes(StandardCharsets.UTF_8);
                CyclicBarrier together = new CyclicBarrier(2);
                // the new-patient hint (no look before the insert) on one node, both, or neither
                boolean hereFirst = round % 3 != 0;
                boolean thereFirst = round % 3 == 2;
                Future<byte[]> here = nodes.submit(() -> {
                    together.await(10, TimeUnit.SECONDS);
                    byte[] plaintext = "here".getBytes(StandardCharsets.UTF_8);
                    return hereFirst ? keyring.encryptFirst(compartment, plaintext, aad)
                            : keyring.encrypt(compartment, plaintext, aad);
                });
                Future<byte[]> there = nodes.submit(() -> {
                    together.await(10, TimeUnit.SECONDS);
                    byte[] plaintext = "there".getBytes(StandardCharsets.UTF_8);
                    return thereFirst ? other.encryptFirst(compartment, plaintext, aad)
                            : other.encrypt(compartment, plaintext, aad);
                });
                byte[] fromHere = here.get(30, TimeUnit.SECONDS);
                byte[] fromThere = there.get(30, TimeUnit.SECONDS);
                // Each node opens the other's record: both encrypted under the keyset that was stored,
                // not under a key of their own that lost the race.
                assertThat(other.decrypt(compartment, fromHere, aad)).asString().isEqualTo("here");
                assertThat(keyring.decrypt(compartment, fromThere, aad)).asString().isEqualTo("there");
                // And directly against the store: both ciphertexts name the primary key of the one keyset
                // stored (a node that kept a key of its own would name another key id).
                assertThat(List.of(RecordCipher.keyIdOf(fromHere), RecordCipher.keyIdOf(fromThere)))
                        .containsOnly(storedPrimaryKeyId(compartment));
            }
        } finally {
            nodes.shutdownNow();
            other.close();
            otherStore.destroy();
        }
    }

    @Test
    void theLoserOfAFirstKeyRaceGetsTheWinnersKeyBack() throws Exception {
        String compartment = "Patient/" + UUID.randomUUID();
        String keyRef = KeyringStore.DEK_PREFIX + compartment;
        byte[] first = wrappedFreshKeyset(keyRef);
        byte[] second = wrappedFreshKeyset(keyRef);

        Optional<KeyringStore.WrappedKey> won = firstKeys.insertUnlessShredded(compartment, keyRef, kek.active().id(), first);
        Optional<KeyringStore.WrappedKey> lost = firstKeys.insertUnlessShredded(compartment, keyRef, kek.active().id(), second);

        assertThat(won.orElseThrow().wrapped()).isEqualTo(first);
        assertThat(lost.orElseThrow().wrapped()).as("the key stored first, not the loser's own").isEqualTo(first);
        assertThat(store.find(keyRef).orElseThrow().wrapped()).isEqualTo(first);
    }

    @Test
    void theNewPatientHintUsesAKeyAlreadyStored() throws Exception {
        KeyringStore otherStore = new KeyringStore(properties);
        PatientKeyring other = new PatientKeyring(otherStore, kek, new UsageCounters(otherStore), properties,
                Duration.ofSeconds(10));
        try {
            String compartment = "Patient/" + UUID.randomUUID();
            byte[] aad = "aad".getBytes(StandardCharsets.UTF_8);
            byte[] fromThere = other.encrypt(compartment, "there".getBytes(StandardCharsets.UTF_8), aad);
            // This node has not seen the compartment: the hint makes a key, the insert yields to the stored one.
            byte[] fromHere = keyring.encryptFirst(compartment, "here".getBytes(StandardCharsets.UTF_8), aad);
            assertThat(other.decrypt(compartment, fromHere, aad)).asString().isEqualTo("here");
            assertThat(keyring.decrypt(compartment, fromThere, aad)).asString().isEqualTo("there");
            assertThat(List.of(RecordCipher.keyIdOf(fromHere), RecordCipher.keyIdOf(fromThere)))
                    .containsOnly(storedPrimaryKeyId(compartment));
        } finally {
            other.close();
            otherStore.destroy();
        }
    }

    @Test
    void aPatientShreddedBeforeTheirFirstKeyNeverGetsOne() throws Exception {
        String compartment = "Patient/" + UUID.randomUUID();
        String keyRef = KeyringStore.DEK_PREFIX + compartment;
        store.shred(compartment, UUID.randomUUID());

        assertThatThrownBy(() -> keyring.encrypt(compartment, new byte[1], new byte[0]))
                .isInstanceOf(KeyDestroyedException.class);
        assertThatThrownBy(() -> keyring.encryptFirst(compartment, new byte[1], new byte[0]))
                .as("the new-patient hint too").isInstanceOf(KeyDestroyedException.class);
        // The store's own check, whatever the caller looked up before: nothing is stored.
        assertThat(firstKeys.insertUnlessShredded(compartment, keyRef, kek.active().id(), wrappedFreshKeyset(keyRef)))
                .isEmpty();
        assertThat(store.find(keyRef)).isEmpty();
    }

    @Test
    void aTombstoneCommittedWhileTheKeyWaitsForTheLockKeepsTheKeyOut() throws Exception {
        String compartment = "Patient/" + UUID.randomUUID();
        String keyRef = KeyringStore.DEK_PREFIX + compartment;
        byte[] wrapped = wrappedFreshKeyset(keyRef);
        ExecutorService background = Executors.newSingleThreadExecutor();
        try (Connection shredder = store.pool().getConnection()) {
            // A shredding in flight: it holds the compartment lock and has written the tombstone, not yet committed.
            shredder.setAutoCommit(false);
            try (PreparedStatement lock = shredder.prepareStatement("select pg_advisory_xact_lock(?, hashtext(?))")) {
                lock.setInt(1, KeyringStore.COMPARTMENT_LOCK_CLASS);
                lock.setString(2, compartment);
                lock.execute();
            }
            try (PreparedStatement tombstone = shredder.prepareStatement(
                    "insert into keyring.shredded_compartment (compartment, request_id) values (?, ?)")) {
                tombstone.setString(1, compartment);
                tombstone.setObject(2, UUID.randomUUID());
                tombstone.executeUpdate();
            }
            Future<Optional<KeyringStore.WrappedKey>> insert = background.submit(
                    () -> firstKeys.insertUnlessShredded(compartment, keyRef, kek.active().id(), wrapped));
            AdvisoryLockWaits.awaitBlockedBy(store.pool(), shredder);
            assertThat(insert.isDone()).as("the key waits for the shredding holding the lock").isFalse();
            shredder.commit();

            assertThat(insert.get(30, TimeUnit.SECONDS))
                    .as("the insert sees the tombstone committed while it waited").isEmpty();
        } finally {
            background.shutdownNow();
        }
        assertThat(store.find(keyRef)).isEmpty();
        assertThatThrownBy(() -> keyring.encrypt(compartment, new byte[1], new byte[0]))
                .isInstanceOf(KeyDestroyedException.class);
    }

    private byte[] wrappedFreshKeyset(String keyRef) throws Exception {
        return TinkProtoKeysetFormat.serializeEncryptedKeyset(KeysetHandle.generateNew(PatientKeyring.DATA_KEY_TEMPLATE),
                kek.counting(kek.active()), keyRef.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The primary key id of the keyset stored for the compartment, unwrapped here from its row.
     * (keyring.wrapped_key holds one row per key_ref by its primary key: counting rows could never
     * find two keysets; what a lost race leaves is a ciphertext under a key that is not stored.)
     */
    private int storedPrimaryKeyId(String compartment) throws Exception {
        String keyRef = KeyringStore.DEK_PREFIX + compartment;
        KeyringStore.WrappedKey stored = store.find(keyRef).orElseThrow();
        return TinkProtoKeysetFormat.parseEncryptedKeyset(stored.wrapped(), kek.unwrapping(stored.kekId()),
                keyRef.getBytes(StandardCharsets.UTF_8)).getPrimary().getId();
    }
}
