package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.testing.IntegrationTest;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * New patients' first keys created at the same moment share one keyring transaction (issue 13:
 * a create made two commits, the keyring's and the records'), under the rules a single first key
 * keeps (ADR 0052). The writer is held on a compartment lock, as a shredding holds it, so that
 * what a batch holds is decided by the test, not by timing: everything queued meanwhile is one
 * batch. Rows inserted by one transaction carry its id ({@code xmin}): that is what proves one commit.
 */
class FirstKeyGroupCommitTest extends IntegrationTest {

    @Autowired
    private KekRing kek;

    @Autowired
    private KeyringProperties properties;

    private KeyringStore store;
    private FirstKeyGroupCommit firstKeys;
    private ExecutorService requests;

    @BeforeEach
    void aNodeOfItsOwn() {
        store = new KeyringStore(properties);
        firstKeys = new FirstKeyGroupCommit(store, 64, Duration.ofSeconds(30));
        requests = Executors.newCachedThreadPool();
    }

    @AfterEach
    void close() {
        requests.shutdownNow();
        firstKeys.close();
        store.destroy();
    }

    @Test
    void keysWaitingAtOnceAreCommittedInOneTransaction() throws Exception {
        String blocking = newCompartment();
        List<String> compartments = new ArrayList<>();
        List<byte[]> wrapped = new ArrayList<>();
        List<Future<Optional<KeyringStore.WrappedKey>>> answers = new ArrayList<>();
        try (Connection shredder = holdLockOf(blocking)) {
            Future<Optional<KeyringStore.WrappedKey>> first = submit(blocking, wrappedFreshKeyset(blocking));
            AdvisoryLockWaits.awaitBlockedBy(store.pool(), shredder);
            for (int i = 0; i < 20; i++) {
                String compartment = newCompartment();
                byte[] key = wrappedFreshKeyset(compartment);
                compartments.add(compartment);
                wrapped.add(key);
                answers.add(submit(compartment, key));
            }
            awaitWaiting(20);
            assertThat(answers).as("nothing is answered while the batch before it is held").noneMatch(Future::isDone);
            shredder.rollback();
            assertThat(first.get(30, TimeUnit.SECONDS)).isPresent();
        }
        for (int i = 0; i < answers.size(); i++) {
            KeyringStore.WrappedKey stored = answers.get(i).get(30, TimeUnit.SECONDS).orElseThrow();
            assertThat(stored.wrapped()).as("each request's own key, stored").isEqualTo(wrapped.get(i));
            assertThat(store.find(keyRef(compartments.get(i))).orElseThrow().wrapped()).isEqualTo(wrapped.get(i));
        }
        Set<String> transactions = insertingTransactions(compartments);
        assertThat(transactions).as("the twenty keys queued together: one transaction, one commit").hasSize(1);
        assertThat(transactions).doesNotContainAnyElementsOf(insertingTransactions(List.of(blocking)));
    }

    @Test
    void aSecondKeyForACompartmentInOneBatchGetsTheFirstBack() throws Exception {
        String blocking = newCompartment();
        String twice = newCompartment();
        byte[] first = wrappedFreshKeyset(twice);
        byte[] second = wrappedFreshKeyset(twice);
        Future<Optional<KeyringStore.WrappedKey>> firstAnswer;
        Future<Optional<KeyringStore.WrappedKey>> secondAnswer;
        try (Connection shredder = holdLockOf(blocking)) {
            submit(blocking, wrappedFreshKeyset(blocking));
            AdvisoryLockWaits.awaitBlockedBy(store.pool(), shredder);
            firstAnswer = submit(twice, first);
            awaitWaiting(1);
            secondAnswer = submit(twice, second);
            awaitWaiting(2);
            shredder.rollback();
        }
        assertThat(firstAnswer.get(30, TimeUnit.SECONDS).orElseThrow().wrapped()).isEqualTo(first);
        assertThat(secondAnswer.get(30, TimeUnit.SECONDS).orElseThrow().wrapped())
                .as("the key stored first, not the second request's own").isEqualTo(first);
        assertThat(store.find(keyRef(twice)).orElseThrow().wrapped()).isEqualTo(first);
    }

    @Test
    void aShreddedPatientInABatchGetsNoKeyAndTheOthersGetTheirs() throws Exception {
        String shredded = newCompartment();
        store.shred(shredded, UUID.randomUUID());
        String blocking = newCompartment();
        String alive = newCompartment();
        byte[] aliveKey = wrappedFreshKeyset(alive);
        Future<Optional<KeyringStore.WrappedKey>> shreddedAnswer;
        Future<Optional<KeyringStore.WrappedKey>> aliveAnswer;
        try (Connection shredder = holdLockOf(blocking)) {
            submit(blocking, wrappedFreshKeyset(blocking));
            AdvisoryLockWaits.awaitBlockedBy(store.pool(), shredder);
            shreddedAnswer = submit(shredded, wrappedFreshKeyset(shredded));
            aliveAnswer = submit(alive, aliveKey);
            awaitWaiting(2);
            shredder.rollback();
        }
        assertThat(shreddedAnswer.get(30, TimeUnit.SECONDS)).isEmpty();
        assertThat(store.find(keyRef(shredded))).isEmpty();
        assertThat(aliveAnswer.get(30, TimeUnit.SECONDS).orElseThrow().wrapped()).isEqualTo(aliveKey);
    }

    @Test
    void aBatchThatCannotBeStoredRefusesEveryRequestInItAndStoresNone() throws Exception {
        String blocking = newCompartment();
        String good = newCompartment();
        String broken = newCompartment();
        Future<Optional<KeyringStore.WrappedKey>> goodAnswer;
        Future<Optional<KeyringStore.WrappedKey>> brokenAnswer;
        try (Connection shredder = holdLockOf(blocking)) {
            submit(blocking, wrappedFreshKeyset(blocking));
            AdvisoryLockWaits.awaitBlockedBy(store.pool(), shredder);
            goodAnswer = submit(good, wrappedFreshKeyset(good));
            // a key the table refuses (no bytes): the batch's one insert fails as a whole
            brokenAnswer = submit(broken, null);
            awaitWaiting(2);
            shredder.rollback();
        }
        for (Future<Optional<KeyringStore.WrappedKey>> answer : List.of(goodAnswer, brokenAnswer)) {
            assertThatThrownBy(() -> answer.get(30, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(KeyUnavailableException.class);
        }
        assertThat(store.find(keyRef(good))).as("no request is told its key is stored when it is not").isEmpty();
        assertThat(store.find(keyRef(broken))).isEmpty();
        // and the writer goes on: the next key is stored
        String after = newCompartment();
        assertThat(submit(after, wrappedFreshKeyset(after)).get(30, TimeUnit.SECONDS)).isPresent();
    }

    @Test
    void closingRefusesTheKeysStillWaiting() throws Exception {
        String blocking = newCompartment();
        String waiting = newCompartment();
        Future<Optional<KeyringStore.WrappedKey>> answer;
        try (Connection shredder = holdLockOf(blocking)) {
            submit(blocking, wrappedFreshKeyset(blocking));
            AdvisoryLockWaits.awaitBlockedBy(store.pool(), shredder);
            answer = submit(waiting, wrappedFreshKeyset(waiting));
            awaitWaiting(1);
            firstKeys.close();
            assertThatThrownBy(() -> answer.get(30, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(KeyUnavailableException.class);
            assertThatThrownBy(() -> firstKeys.insertUnlessShredded(waiting, keyRef(waiting), kek.active().id(),
                    wrappedFreshKeyset(waiting))).isInstanceOf(KeyUnavailableException.class);
            shredder.rollback();
        }
        assertThat(store.find(keyRef(waiting))).isEmpty();
    }

    @Test
    void aLockHeldLongerThanTheKeyringsWaitFailsThatBatchAndTheWriterGoesOn() throws Exception {
        // a node whose keyring wait is two seconds: its writer's statements are bounded by it
        KeyringStore impatient = new KeyringStore(properties, Duration.ofSeconds(2));
        FirstKeyGroupCommit writer = new FirstKeyGroupCommit(impatient, 64, Duration.ofSeconds(30));
        try {
            String held = newCompartment();
            try (Connection shredder = holdLockOf(held)) {
                long started = System.nanoTime();
                String kekId = kek.active().id();
                byte[] key = wrappedFreshKeyset(held);
                assertThatThrownBy(() -> writer.insertUnlessShredded(held, keyRef(held), kekId, key))
                        .as("the lock wait ends at the bound, not with the lock").isInstanceOf(KeyUnavailableException.class);
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
                assertThat(waitingFor(shredder)).as("the database gave up the wait too: no backend is left holding"
                        + " the batch's other locks while it waits").isZero();
                String next = newCompartment();
                assertThat(writer.insertUnlessShredded(next, keyRef(next), kekId, wrappedFreshKeyset(next)))
                        .as("the writer goes on with the next batch while the lock is still held").isPresent();
                shredder.rollback();
            }
            assertThat(store.find(keyRef(held))).isEmpty();
        } finally {
            writer.close();
            impatient.destroy();
        }
    }

    @Test
    void theStoreRefusesACompartmentGivenTwiceInOneInsert() throws Exception {
        String twice = newCompartment();
        List<KeyringStore.NewDataKey> keys = List.of(
                new KeyringStore.NewDataKey(twice, keyRef(twice), wrappedFreshKeyset(twice)),
                new KeyringStore.NewDataKey(twice, keyRef(twice), wrappedFreshKeyset(twice)));
        assertThatThrownBy(() -> store.insertDataKeysUnlessShredded(kek.active().id(), keys))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(store.find(keyRef(twice))).isEmpty();
    }

    private Future<Optional<KeyringStore.WrappedKey>> submit(String compartment, byte[] wrapped) {
        String kekId = kek.active().id();
        return requests.submit(() -> firstKeys.insertUnlessShredded(compartment, keyRef(compartment), kekId, wrapped));
    }

    private void awaitWaiting(int keys) {
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5))
                .until(() -> firstKeys.waiting() == keys);
    }

    /** A connection holding the compartment's lock in an open transaction, as a shredding holds it. */
    private Connection holdLockOf(String compartment) throws Exception {
        Connection holder = store.pool().getConnection();
        holder.setAutoCommit(false);
        try (PreparedStatement lock = holder.prepareStatement("select pg_advisory_xact_lock(?, hashtext(?))")) {
            lock.setInt(1, KeyringStore.COMPARTMENT_LOCK_CLASS);
            lock.setString(2, compartment);
            lock.execute();
        }
        return holder;
    }

    /** How many backends wait for an advisory lock that {@code holder}'s backend holds. */
    private int waitingFor(Connection holder) throws Exception {
        try (Connection c = store.pool().getConnection();
                PreparedStatement s = c.prepareStatement("select count(*) from pg_locks where locktype = 'advisory'"
                        + " and not granted and ? = any(pg_blocking_pids(pid))")) {
            int holderPid;
            try (ResultSet rs = holder.createStatement().executeQuery("select pg_backend_pid()")) {
                rs.next();
                holderPid = rs.getInt(1);
            }
            s.setInt(1, holderPid);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** The ids of the transactions that inserted the compartments' keys. */
    private Set<String> insertingTransactions(List<String> compartments) throws Exception {
        Set<String> transactions = new HashSet<>();
        try (Connection connection = store.pool().getConnection();
                PreparedStatement query = connection.prepareStatement(
                        "select xmin::text from keyring.wrapped_key where key_ref = any(?)")) {
            query.setArray(1, connection.createArrayOf("text",
                    compartments.stream().map(FirstKeyGroupCommitTest::keyRef).toArray()));
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    transactions.add(rs.getString(1));
                }
            }
        }
        return transactions;
    }

    private static String newCompartment() {
        return "Patient/" + UUID.randomUUID();
    }

    private static String keyRef(String compartment) {
        return KeyringStore.DEK_PREFIX + compartment;
    }

    private byte[] wrappedFreshKeyset(String compartment) throws Exception {
        return TinkProtoKeysetFormat.serializeEncryptedKeyset(KeysetHandle.generateNew(PatientKeyring.DATA_KEY_TEMPLATE),
                kek.counting(kek.active()), keyRef(compartment).getBytes(StandardCharsets.UTF_8));
    }
}
