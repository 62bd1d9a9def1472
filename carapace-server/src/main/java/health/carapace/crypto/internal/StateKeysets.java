package health.carapace.crypto.internal;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyLifecycleEvent;
import health.carapace.crypto.KeyRotation;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.crypto.RecordCipher;
import health.carapace.crypto.StateSeal;
import health.carapace.crypto.StateSeals;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;

/**
 * The sealing keysets for short-lived state ({@link StateSeal}, ADR 0042): one Tink AES256_GCM
 * keyset per name in {@code keyring.wrapped_key} under {@code state/<name>}, wrapped by the KEK
 * (so by the HSM in production) with the key reference as associated data, the KEK rotation
 * re-wrapping it like any keyset. Each key's creation time and encryptions are kept in
 * {@code keyring.dek_key}, as data keys' are.
 *
 * <p>Rotation adds a key and makes it primary. Nodes seal with a keyset read within the refresh
 * interval, so within that interval every node seals with the new key; a key it replaced keeps
 * opening for the values' lifetime after that (plus the refresh interval), then the scheduled
 * check destroys it: a value sealed under it no longer opens ({@link StateSeal.Refusal#UNKNOWN_KEY}).
 * The check rotates a keyset whose primary is older than {@code carapace.keys.state-key-max-age}
 * or has reached the encryption warning. Any node may rotate or destroy; every write is
 * compare-and-set on the wrapped keyset, so two nodes doing it at once do it once.
 */
final class StateKeysets implements StateSeals {

    private static final Logger log = LoggerFactory.getLogger(StateKeysets.class);
    static final String PREFIX = "state/";
    static final String COMPONENT = "state sealing keys";
    static final String KIND = "state";
    private static final Pattern NAME = Pattern.compile("[a-z0-9-]{1,40}");
    /**
     * A value naming a key this node does not know re-reads the keyset (rotated on another node) at
     * most this often, so that a flood of forged key ids costs no keyring reads.
     */
    static final Duration UNKNOWN_KEY_RELOAD = Duration.ofSeconds(1);

    private record Loaded(KeysetHandle handle, Aead aead, Set<Integer> keyIds, int primaryId, long loadedAt) {}

    private final KeyringStore store;
    private final KekRing kek;
    private final UsageCounters counters;
    private final ApplicationEventPublisher events;
    private final Clock clock;
    private final Duration refresh;
    private final Duration maxAge;
    private final long encryptionWarning;
    private final Map<String, Keyset> keysets = new ConcurrentHashMap<>();

    StateKeysets(KeyringStore store, KekRing kek, UsageCounters counters, ApplicationEventPublisher events, Clock clock,
            Duration refresh, Duration maxAge, long encryptionWarning) {
        this.store = store;
        this.kek = kek;
        this.counters = counters;
        this.events = events;
        this.clock = clock;
        this.refresh = refresh;
        this.maxAge = maxAge;
        this.encryptionWarning = encryptionWarning;
    }

    @Override
    public StateSeal named(String name, Duration valuesLiveFor) {
        if (!NAME.matcher(name).matches() || valuesLiveFor.isNegative() || valuesLiveFor.isZero()) {
            throw new IllegalArgumentException("a state keyset needs a plain name and a positive lifetime");
        }
        // Asked twice with two lifetimes, the longer one keeps replaced keys: no value outlives its key.
        return keysets.compute(name, (n, known) -> known == null || known.valuesLiveFor.compareTo(valuesLiveFor) < 0
                ? new Keyset(n, valuesLiveFor) : known);
    }

    /**
     * Adds a new primary key to every state keyset in the keyring (the command's rotation), also
     * those this node has not used yet. Returns the new keys as {@code state/<name>#<key id>}.
     */
    List<String> rotateAll(String actor) {
        List<String> rotated = new ArrayList<>();
        for (String keyRef : store.keyRefsStartingWith(PREFIX)) {
            rotateRef(keyRef, actor).ifPresent(id -> rotated.add(keyRef + "#" + Integer.toUnsignedLong(id)));
        }
        keysets.values().forEach(Keyset::forget);
        return rotated;
    }

    /** Adds a new primary key to one keyset; its id, or empty when the keyset does not exist yet. */
    Optional<Integer> rotate(String name, String actor) {
        Optional<Integer> rotated = rotateRef(PREFIX + name, actor);
        Keyset keyset = keysets.get(name);
        if (keyset != null) {
            keyset.forget();
        }
        return rotated;
    }

    /**
     * The scheduled check of the keysets this node uses: a primary that is too old or too used is
     * replaced; keys replaced long enough ago that every value they sealed has expired are destroyed.
     */
    void maintain() {
        for (Keyset keyset : keysets.values()) {
            try {
                keyset.maintain();
            } catch (RuntimeException e) {
                log.error("A state keyset could not be checked for rotation; it is retried at the next check", e);
            }
        }
    }

    /** One line per live key of every state keyset, for {@code keys status}. */
    List<KeyRotation.Key> status() {
        List<KeyRotation.Key> keys = new ArrayList<>();
        for (String keyRef : store.keyRefsStartingWith(PREFIX)) {
            Optional<KeyringStore.WrappedKey> wrapped = store.find(keyRef);
            if (wrapped.isEmpty()) {
                continue;
            }
            Keyset used = keysets.get(keyRef.substring(PREFIX.length()));
            int primary;
            try {
                // this node's copy when it has one (metrics ask every few seconds: no HSM call each time)
                primary = used != null ? used.load(refresh.toNanos()).primaryId() : parse(wrapped.get()).getPrimary().getId();
            } catch (GeneralSecurityException e) {
                throw new KeyUnavailableException("A state keyset cannot be unwrapped by the KEK " + wrapped.get().kekId(), e);
            }
            int version = 0;
            for (KeyringStore.DekKey key : store.liveKeysOf(keyRef)) {
                // "version": the key's place in the keyset's history (oldest live key first)
                keys.add(new KeyRotation.Key(KIND, keyRef + "#" + key.keyId(), ++version, key.createdAt(),
                        key.keyId() == Integer.toUnsignedLong(primary) ? "active" : "decrypt-only", key.encryptions(),
                        key.encryptions() >= encryptionWarning));
            }
        }
        return keys;
    }

    /** Adds a key and makes it primary; the new key's id, or empty when there is no such keyset. */
    private Optional<Integer> rotateRef(String keyRef, String actor) {
        for (int attempt = 0; attempt < 10; attempt++) {
            Optional<KeyringStore.WrappedKey> stored = store.find(keyRef);
            if (stored.isEmpty()) {
                return Optional.empty();
            }
            try {
                KeysetHandle current = parse(stored.get());
                KeysetHandle rotated = KeysetHandle.newBuilder(current)
                        .addEntry(KeysetHandle.generateEntryFromParameters(PredefinedAeadParameters.AES256_GCM)
                                .withRandomId().makePrimary())
                        .build();
                int id = rotated.getPrimary().getId();
                // on the record before it seals anything (fail closed)
                events.publishEvent(new KeyLifecycleEvent(actor, "/keys/" + keyRef + "/" + Integer.toUnsignedLong(id)
                        + "/activated", null));
                if (write(keyRef, rotated, stored.get().wrapped())) {
                    store.recordStateKey(keyRef, Integer.toUnsignedLong(id), clock.instant());
                    return Optional.of(id);
                }
            } catch (GeneralSecurityException e) {
                throw new KeyUnavailableException("Cannot rotate a state keyset", e);
            }
        }
        throw new KeyUnavailableException("A state keyset kept changing while it was being rotated");
    }

    private boolean write(String keyRef, KeysetHandle handle, byte[] expected) throws GeneralSecurityException {
        KeyEncryptionKey active = kek.active();
        byte[] wrapped = TinkProtoKeysetFormat.serializeEncryptedKeyset(handle, kek.counting(active),
                keyRef.getBytes(StandardCharsets.UTF_8));
        return store.compareAndSet(List.of(new KeyringStore.Rewrite(keyRef, active.id(), wrapped, expected))) == 1;
    }

    private KeysetHandle parse(KeyringStore.WrappedKey stored) throws GeneralSecurityException {
        return TinkProtoKeysetFormat.parseEncryptedKeyset(stored.wrapped(), kek.unwrapping(stored.kekId()),
                stored.keyRef().getBytes(StandardCharsets.UTF_8));
    }

    /** One named keyset, as this node sees it: the keyset unwrapped, re-read when too old to seal with. */
    private final class Keyset implements StateSeal {

        private final String keyRef;
        private final Duration valuesLiveFor;
        private volatile Loaded loaded;
        private volatile long lastUnknownReload = System.nanoTime() - UNKNOWN_KEY_RELOAD.toNanos();

        Keyset(String name, Duration valuesLiveFor) {
            this.keyRef = PREFIX + name;
            this.valuesLiveFor = valuesLiveFor;
        }

        @Override
        public byte[] seal(byte[] plain, byte[] associatedData) {
            Loaded keyset = load(refresh.toNanos());
            try {
                byte[] sealed = keyset.aead().encrypt(plain, associatedData);
                counters.dekEncryption(keyRef, Integer.toUnsignedLong(keyset.primaryId()));
                return sealed;
            } catch (GeneralSecurityException e) {
                throw new KeyUnavailableException("Sealing failed under a state key", e);
            }
        }

        @Override
        public Opening open(byte[] sealed, byte[] associatedData) {
            Integer keyId = RecordCipher.keyIdOf(sealed);
            if (keyId == null) {
                return Opening.refused(Refusal.NOT_AUTHENTIC);
            }
            Loaded keyset = load(Long.MAX_VALUE);
            if (!keyset.keyIds().contains(keyId)) {
                // rotated on another node since this one read the keyset? (read again at most once a second)
                long now = System.nanoTime();
                long last = lastUnknownReload;
                if (now - last >= UNKNOWN_KEY_RELOAD.toNanos()) {
                    lastUnknownReload = now;
                    keyset = load(0);
                }
                if (!keyset.keyIds().contains(keyId)) {
                    return Opening.refused(Refusal.UNKNOWN_KEY);
                }
            }
            try {
                return Opening.opened(keyset.aead().decrypt(sealed, associatedData));
            } catch (GeneralSecurityException | RuntimeException e) {
                return Opening.refused(Refusal.NOT_AUTHENTIC);
            }
        }

        void forget() {
            loaded = null;
        }

        void maintain() {
            Loaded keyset = load(0);
            Instant now = clock.instant();
            List<KeyringStore.DekKey> live = store.liveKeysOf(keyRef);
            long primaryId = Integer.toUnsignedLong(keyset.primaryId());
            Optional<KeyringStore.DekKey> primary = live.stream().filter(k -> k.keyId() == primaryId).findFirst();
            if (primary.isEmpty()) {
                // made before its age was kept: its age counts from now
                store.recordStateKey(keyRef, primaryId, now);
                return;
            }
            if (!primary.get().createdAt().plus(maxAge).isAfter(now) || primary.get().encryptions() >= encryptionWarning) {
                rotateRef(keyRef, KeyJobs.SYSTEM_ACTOR);
                forget();
                return;
            }
            // Every node seals with the primary within the refresh interval of its creation; a value
            // sealed under an older key is at most valuesLiveFor old after that.
            if (keyset.handle().size() > 1
                    && !primary.get().createdAt().plus(refresh).plus(valuesLiveFor).isAfter(now)) {
                destroyReplaced(keyset);
            }
        }

        private void destroyReplaced(Loaded keyset) {
            for (int attempt = 0; attempt < 10; attempt++) {
                Optional<KeyringStore.WrappedKey> stored = store.find(keyRef);
                if (stored.isEmpty()) {
                    return;
                }
                try {
                    KeysetHandle current = parse(stored.get());
                    KeysetHandle.Builder builder = KeysetHandle.newBuilder(current);
                    List<Long> removed = new ArrayList<>();
                    for (int i = current.size() - 1; i >= 0; i--) {
                        if (!current.getAt(i).isPrimary()) {
                            builder.deleteAt(i);
                            removed.add(Integer.toUnsignedLong(current.getAt(i).getId()));
                        }
                    }
                    if (removed.isEmpty()) {
                        return;
                    }
                    for (long id : removed) {
                        events.publishEvent(new KeyLifecycleEvent(KeyJobs.SYSTEM_ACTOR,
                                "/keys/" + keyRef + "/" + id + "/destroyed", null));
                    }
                    if (write(keyRef, builder.build(), stored.get().wrapped())) {
                        store.markDekKeysDestroyed(keyRef, removed);
                        forget();
                        return;
                    }
                } catch (GeneralSecurityException e) {
                    throw new KeyUnavailableException("Cannot destroy replaced state keys", e);
                }
            }
        }

        /** The keyset, read again when the copy held is older than {@code maxAgeNanos}. */
        private Loaded load(long maxAgeNanos) {
            Loaded held = loaded;
            if (held != null && System.nanoTime() - held.loadedAt() <= maxAgeNanos) {
                return held;
            }
            synchronized (this) {
                held = loaded;
                if (held != null && System.nanoTime() - held.loadedAt() <= maxAgeNanos) {
                    return held;
                }
                Loaded fresh = fromKeyring();
                loaded = fresh;
                return fresh;
            }
        }

        private Loaded fromKeyring() {
            byte[] associatedData = keyRef.getBytes(StandardCharsets.UTF_8);
            try {
                Optional<KeyringStore.WrappedKey> wrapped = store.find(keyRef);
                if (wrapped.isEmpty()) {
                    KeysetHandle fresh = KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM);
                    KeyEncryptionKey active = kek.active();
                    store.insertIfAbsent(keyRef, active.id(),
                            TinkProtoKeysetFormat.serializeEncryptedKeyset(fresh, kek.counting(active), associatedData));
                    wrapped = store.find(keyRef);
                    // ours or another node's: its first key's age counts from now (idempotent)
                    store.recordStateKey(keyRef, Integer.toUnsignedLong(parse(wrapped.orElseThrow()).getPrimary().getId()),
                            clock.instant());
                }
                KeysetHandle handle = parse(wrapped.orElseThrow());
                TinkAlgorithms.requireAllowed(COMPONENT, handle);
                Set<Integer> ids = new HashSet<>();
                for (int i = 0; i < handle.size(); i++) {
                    ids.add(handle.getAt(i).getId());
                }
                return new Loaded(handle, handle.getPrimitive(RegistryConfiguration.get(), Aead.class), Set.copyOf(ids),
                        handle.getPrimary().getId(), System.nanoTime());
            } catch (GeneralSecurityException e) {
                throw new KeyUnavailableException("A state keyset cannot be created or unwrapped by the KEK", e);
            }
        }
    }
}
