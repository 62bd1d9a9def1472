package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.IMetricsTracker;
import com.zaxxer.hikari.pool.HikariPool;
import health.carapace.crypto.KeyDestroyedException;
import health.carapace.crypto.RecordCipher;
import health.carapace.testing.IntegrationTest;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The keys of a transaction Bundle's new patients are made in one keyring transaction (issue 13
 * item 6) instead of one per patient, under the rules a single first key keeps (ADR 0052): each
 * patient a keyset of their own, a key stored first by another node wins, no key for a shredded
 * patient, even one whose tombstone is committed while the batch waits for the locks.
 */
class FirstKeysInOneTransactionTest extends IntegrationTest {

    @Autowired
    private PatientKeyring keyring;

    @Autowired
    private KekRing kek;

    @Autowired
    private KeyringProperties properties;

    @Test
    void aBundlesNewPatientsGetAKeysetEachFromOneKeyringTransaction() throws Exception {
        // A node of the test's own, so that its keyring pool's checkouts are this test's alone; its key
        // cache holds one keyset, as a node's full cache turns new keys away (a million patients' seeding)
        KeyringStore store = new KeyringStore(properties);
        KeyringProperties oneKeyCached = new KeyringProperties(properties.url(), properties.username(),
                properties.password(), properties.ownerUsername(), properties.ownerPassword(), 1,
                properties.dekCacheTtl(), properties.dekCacheMaxLifetime());
        PatientKeyring node = new PatientKeyring(store, kek, new UsageCounters(store), oneKeyCached, Duration.ofSeconds(10));
        AtomicInteger checkouts = new AtomicInteger();
        ((HikariPool) ((HikariDataSource) store.pool()).getHikariPoolMXBean())
                .setMetricsTrackerFactory((name, stats) -> new IMetricsTracker() {
                    @Override
                    public void recordConnectionAcquiredNanos(long elapsedAcquiredNanos) {
                        checkouts.incrementAndGet();
                    }
                });
        try {
            List<String> fresh = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                fresh.add("Patient/" + UUID.randomUUID());
            }
            // one whose key another node stored first, one shredded before its first key
            String storedElsewhere = "Patient/" + UUID.randomUUID();
            byte[] aad = "aad".getBytes(StandardCharsets.UTF_8);
            byte[] fromElsewhere = keyring.encrypt(storedElsewhere, "elsewhere".getBytes(StandardCharsets.UTF_8), aad);
            String shredded = "Patient/" + UUID.randomUUID();
            store.shred(shredded, UUID.randomUUID());
            List<String> all = new ArrayList<>(fresh);
            all.add(storedElsewhere);
            all.add(shredded);

            checkouts.set(0);
            RecordCipher.FirstKeys made = node.createFirstKeys(all);
            assertThat(checkouts.get()).as("keyring transactions for 42 first keys").isEqualTo(1);

            List<byte[]> ciphertexts = new ArrayList<>();
            for (String compartment : fresh) {
                ciphertexts.add(made.encrypt(compartment, "here".getBytes(StandardCharsets.UTF_8), aad).orElseThrow());
            }
            assertThat(checkouts.get()).as("the first records found their keys made").isEqualTo(1);
            Set<Integer> primaries = new HashSet<>();
            for (int i = 0; i < fresh.size(); i++) {
                int stored = storedPrimaryKeyId(store, fresh.get(i));
                assertThat(RecordCipher.keyIdOf(ciphertexts.get(i))).as("encrypted under the key stored for it")
                        .isEqualTo(stored);
                assertThat(keyring.decrypt(fresh.get(i), ciphertexts.get(i), aad)).asString().isEqualTo("here");
                primaries.add(stored);
            }
            assertThat(primaries).as("a keyset of its own for every patient").hasSize(fresh.size());

            byte[] here = made.encrypt(storedElsewhere, "here".getBytes(StandardCharsets.UTF_8), aad).orElseThrow();
            assertThat(RecordCipher.keyIdOf(here)).as("the key stored first is the one used")
                    .isEqualTo(storedPrimaryKeyId(store, storedElsewhere));
            assertThat(node.decrypt(storedElsewhere, fromElsewhere, aad)).asString().isEqualTo("elsewhere");

            assertThat(store.find(KeyringStore.DEK_PREFIX + shredded)).isEmpty();
            assertThat(made.encrypt(shredded, new byte[1], aad)).as("no key made for the shredded patient").isEmpty();
            assertThatThrownBy(() -> node.encryptFirst(shredded, new byte[1], aad)).isInstanceOf(KeyDestroyedException.class);
        } finally {
            node.close();
            store.destroy();
        }
    }

    @Test
    void aTombstoneCommittedWhileTheBatchWaitsForItsLockKeepsThatKeyOut() throws Exception {
        KeyringStore store = new KeyringStore(properties);
        PatientKeyring node = new PatientKeyring(store, kek, new UsageCounters(store), properties, Duration.ofSeconds(10));
        String shredding = "Patient/" + UUID.randomUUID();
        String other = "Patient/" + UUID.randomUUID();
        ExecutorService background = Executors.newSingleThreadExecutor();
        try (Connection shredder = store.pool().getConnection()) {
            // A shredding in flight: it holds the compartment lock and has written the tombstone, not yet committed.
            shredder.setAutoCommit(false);
            try (PreparedStatement lock = shredder.prepareStatement("select pg_advisory_xact_lock(?, hashtext(?))")) {
                lock.setInt(1, KeyringStore.COMPARTMENT_LOCK_CLASS);
                lock.setString(2, shredding);
                lock.execute();
            }
            try (PreparedStatement tombstone = shredder.prepareStatement(
                    "insert into keyring.shredded_compartment (compartment, request_id) values (?, ?)")) {
                tombstone.setString(1, shredding);
                tombstone.setObject(2, UUID.randomUUID());
                tombstone.executeUpdate();
            }
            Future<RecordCipher.FirstKeys> batch = background.submit(() -> node.createFirstKeys(List.of(other, shredding)));
            AdvisoryLockWaits.awaitBlockedBy(store.pool(), shredder);
            assertThat(batch.isDone()).as("the batch waits for the shredding holding the lock").isFalse();
            shredder.commit();
            RecordCipher.FirstKeys made = batch.get(30, TimeUnit.SECONDS);
            assertThat(made.encrypt(shredding, new byte[1], new byte[0])).isEmpty();
            assertThat(made.encrypt(other, new byte[1], new byte[0])).isPresent();
        } finally {
            background.shutdownNow();
        }
        try {
            assertThat(store.find(KeyringStore.DEK_PREFIX + shredding)).as("the tombstone committed while it waited").isEmpty();
            assertThat(store.find(KeyringStore.DEK_PREFIX + other)).isPresent();
            assertThatThrownBy(() -> node.encryptFirst(shredding, new byte[1], new byte[0]))
                    .isInstanceOf(KeyDestroyedException.class);
        } finally {
            node.close();
            store.destroy();
        }
    }

    @Test
    void aCallerWhoMayNotCreatePatientsGetsNoKeyMadeForTheBundlesPatients() throws Exception {
        // a clinician records clinical data about existing patients but may not create patients
        var clinician = client("first-keys-clinician", health.carapace.testing.TestPolicy.CLINICIAN);
        String token = tokenFor(clinician.clientId(), clinician.clientSecret());
        StringBuilder bundle = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
        for (int i = 0; i < 3; i++) {
            bundle.append(i == 0 ? "" : ",").append("{\"resource\":{\"resourceType\":\"Patient\",\"name\":[{\"family\":")
                    .append("\"Keyless\"}]},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}");
        }
        bundle.append("]}");
        long before = storedKeys();

        var response = sendWithoutToken(java.net.http.HttpRequest.newBuilder(uri("/fhir"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/fhir+json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(bundle.toString())));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(403);
        assertThat(storedKeys()).as("keys in the keyring").isEqualTo(before);
    }

    @Autowired
    private KeyringStore keyringStore;

    private long storedKeys() throws Exception {
        try (Connection c = keyringStore.pool().getConnection();
                ResultSet rs = c.createStatement().executeQuery("select count(*) from keyring.wrapped_key")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private int storedPrimaryKeyId(KeyringStore store, String compartment) throws Exception {
        String keyRef = KeyringStore.DEK_PREFIX + compartment;
        KeyringStore.WrappedKey stored = store.find(keyRef).orElseThrow();
        return TinkProtoKeysetFormat.parseEncryptedKeyset(stored.wrapped(), kek.unwrapping(stored.kekId()),
                keyRef.getBytes(StandardCharsets.UTF_8)).getPrimary().getId();
    }
}
