package health.carapace.crypto.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.aead.AesGcmKey;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import com.google.crypto.tink.subtle.AesGcmJce;
import health.carapace.crypto.KeyDestroyedException;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyMissingException;
import health.carapace.crypto.KeyShredder;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.crypto.RecordCipher;
import health.carapace.crypto.RecordIntegrityException;
import health.carapace.platform.config.AlgorithmUse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Tink AES256_GCM keyset per compartment, wrapped by the KEK in the keyring, unwrapped on
 * demand into a bounded, time-limited cache.
 *
 * <p>Rotation (ADR 0010) adds a key to a keyset and makes it primary; a re-encryption job moves
 * every ciphertext to it; then the old key is removed. Other nodes notice without any message:
 * a ciphertext whose key id (Tink's 5-byte prefix) is not in the cached keyset makes the node
 * re-read the keyset, and a node encrypts only with a keyset read within the refresh interval.
 *
 * <p>Crypto-shredding: a shredded compartment's keys are deleted and the keyring keeps a
 * tombstone, so a cache miss for it fails with {@link KeyDestroyedException} and no new key is
 * ever made for it. Other nodes may still hold the key in their caches; each node checks its
 * cached compartments against the tombstones every few seconds and evicts shredded ones. (Reads
 * and writes do not wait for that: the record path refuses a shredded compartment from the PHI
 * database's tombstone first, whatever is cached.) Rotation never brings a shredded keyset back:
 * it only rewrites a row that still holds what it read (compare-and-set), and shredding deletes
 * the row.
 */
final class PatientKeyring implements RecordCipher, KeyShredder, AutoCloseable {

    private static final Pattern PATIENT_COMPARTMENT =
            Pattern.compile("Patient/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Logger log = LoggerFactory.getLogger(PatientKeyring.class);
    /** How often cached keys are checked against the keyring's shredded compartments. */
    static final Duration SHRED_CHECK_INTERVAL = Duration.ofSeconds(5);
    /** Compartments looked up per statement by that check. */
    static final int SHRED_CHECK_SLICE = 1_000;

    static final String COMPONENT = "record data keys";
    /** What every new data key is: Tink AES256_GCM (256-bit key, 96-bit random nonce, 128-bit tag). */
    static final com.google.crypto.tink.Parameters DATA_KEY_TEMPLATE = PredefinedAeadParameters.AES256_GCM;

    /** Keys removed from a keyset, and how many it still holds. */
    record Removal(List<Long> removed, int remaining) {}

    /**
     * An unwrapped keyset as the cache holds it: its primitive and key ids, not the keyset itself.
     * The cache is what bounds how many patients a node can serve without an unwrap per read, so an
     * entry is kept small (ADR 0055): a one-key keyset (every keyset outside a rotation) is held as
     * Tink's primitive for that key, about 140 bytes of heap; the keyset with Tink's keyset wrapper
     * was about 980.
     */
    private record Loaded(Aead aead, int[] keyIds, int primaryId, long loadedAt) {
        boolean holds(int keyId) {
            for (int id : keyIds) {
                if (id == keyId) {
                    return true;
                }
            }
            return false;
        }
    }

    /** New patients' keys waiting at once share one keyring transaction and commit, up to this many. */
    static final int FIRST_KEYS_PER_COMMIT = 64;

    private final KeyringStore store;
    private final FirstKeyGroupCommit firstKeys;
    private final KekRing kek;
    private final UsageCounters counters;
    private final long refreshNanos;
    private final LongSupplier nanoClock;
    private final Cache<String, Loaded> unwrapped;
    private final ScheduledExecutorService shredCheck;
    /** Tombstones the last shred check counted (-1: none yet) and when it started; guarded by this. */
    private long tombstonesSeen = -1;
    private long lastCheckStarted;
    /** The distinct algorithms of every data keyset unwrapped so far, for the inventory. */
    private final Set<AlgorithmUse> loaded = java.util.concurrent.ConcurrentHashMap.newKeySet();

    PatientKeyring(KeyringStore store, KekRing kek, UsageCounters counters, KeyringProperties properties,
            Duration refresh) {
        this(store, kek, counters, properties, refresh, System::nanoTime);
    }

    /** With the clock (in nanoseconds) that key ages and shred checks are measured by; tests move it. */
    PatientKeyring(KeyringStore store, KekRing kek, UsageCounters counters, KeyringProperties properties,
            Duration refresh, LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.store = store;
        // a request waits for its key's commit as long as it would wait for a keyring connection
        this.firstKeys = new FirstKeyGroupCommit(store, FIRST_KEYS_PER_COMMIT, store.connectionWait());
        this.kek = kek;
        this.counters = counters;
        this.refreshNanos = refresh.toNanos();
        this.unwrapped = Caffeine.newBuilder()
                .maximumSize(properties.dekCacheSize())
                .expireAfterAccess(properties.dekCacheTtl())
                // a key in daily use is unwrapped again by the KEK now and then: without the HSM, what
                // this node can still decrypt ends within this bound (ADR 0041)
                .expireAfterWrite(properties.dekCacheMaxLifetime())
                .build();
        this.shredCheck = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "keyring-shred-check");
            thread.setDaemon(true);
            return thread;
        });
        long millis = SHRED_CHECK_INTERVAL.toMillis();
        shredCheck.scheduleWithFixedDelay(this::evictShreddedQuietly, millis, millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public int shred(String compartment, UUID requestId) {
        if (!PATIENT_COMPARTMENT.matcher(compartment).matches()) {
            throw new IllegalArgumentException("only a patient compartment (Patient/<uuid>) can be shredded");
        }
        int deleted = store.shred(compartment, requestId);
        unwrapped.invalidate(compartment);
        return deleted;
    }

    /**
     * The algorithms of a compartment's stored data keyset (every key), unwrapped here without
     * being used or cached; empty if there is none. For the startup check, which judges them.
     */
    List<AlgorithmUse> storedAlgorithms(String compartment) {
        String keyRef = "dek/" + compartment;
        var wrapped = store.find(keyRef);
        if (wrapped.isEmpty()) {
            return List.of();
        }
        try {
            return TinkAlgorithms.describe(COMPONENT, parse(wrapped.get()));
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("A data key cannot be unwrapped by the KEK " + wrapped.get().kekId(), e);
        }
    }

    /** The algorithms of the data keysets loaded so far (every key of each). */
    Set<AlgorithmUse> loadedAlgorithms() {
        return Set.copyOf(loaded);
    }

    @Override
    public boolean isShredded(String compartment) {
        return store.isShredded(compartment);
    }

    /**
     * Evicts every cached key whose compartment the keyring records as shredded; returns how many.
     *
     * <p>Tombstones are only ever added (the keyring role may insert and read them, not delete), and
     * shreddings are rare, so a check first counts them: when the count is what the last check saw,
     * no compartment was shredded since, and only keys cached since shortly before the last check
     * are looked up (a key read before a shredding may enter the cache just after a check looked).
     * Otherwise every cached compartment is looked up. Either way in slices, so that a full cache
     * (10,000 keys by default) is never sent as one array: that was half a megabyte every five
     * seconds, a humongous allocation that kept a small G1 heap marking.
     */
    synchronized int evictShredded() {
        long started = nanoClock.getAsLong();
        long tombstones = store.shreddedCount();
        boolean nothingNew = tombstones == tombstonesSeen;
        long since = lastCheckStarted - SHRED_CHECK_INTERVAL.toNanos();
        List<String> slice = new ArrayList<>(SHRED_CHECK_SLICE);
        int evicted = 0;
        for (Map.Entry<String, Loaded> entry : unwrapped.asMap().entrySet()) {
            if (nothingNew && entry.getValue().loadedAt() - since < 0) {
                continue;
            }
            slice.add(entry.getKey());
            if (slice.size() == SHRED_CHECK_SLICE) {
                evicted += evictShreddedAmong(slice);
                slice.clear();
            }
        }
        evicted += evictShreddedAmong(slice);
        tombstonesSeen = tombstones;
        lastCheckStarted = started;
        return evicted;
    }

    private int evictShreddedAmong(List<String> compartments) {
        List<String> shredded = store.shreddedAmong(compartments);
        unwrapped.invalidateAll(shredded);
        return shredded.size();
    }

    private void evictShreddedQuietly() {
        try {
            evictShredded();
        } catch (RuntimeException e) {
            // The keyring may be briefly unreachable; the record path does not depend on this check.
            log.warn("Checking cached data keys against shredded compartments failed", e);
        }
    }

    @Override
    public void close() {
        shredCheck.shutdownNow();
        firstKeys.close();
    }

    @Override
    public byte[] encrypt(String compartment, byte[] plaintext, byte[] associatedData) {
        return encryptWith(load(compartment, OnMiss.LOOK_THEN_CREATE, refreshNanos), compartment, plaintext,
                associatedData);
    }

    @Override
    public byte[] encryptFirst(String compartment, byte[] plaintext, byte[] associatedData) {
        return encryptWith(load(compartment, OnMiss.CREATE, refreshNanos), compartment, plaintext, associatedData);
    }

    /**
     * The keys of a transaction Bundle's new patients in one keyring transaction (issue 13 item 6:
     * a commit per patient was most of the keyring's cost when seeding). Each compartment gets a
     * keyset generated for it alone and wrapped by the active KEK, as {@link #create} makes one; what
     * the keyring then holds for it (ours, or a key stored first elsewhere) is unwrapped through the
     * KEK before any use, handed back to the caller and offered to the cache. A shredded
     * compartment gets nothing here; its first encryption is refused as before.
     */
    @Override
    public FirstKeys createFirstKeys(java.util.Collection<String> compartments) {
        List<KeyringStore.NewDataKey> fresh = new ArrayList<>();
        KeyEncryptionKey active = kek.active();
        try {
            for (String compartment : new java.util.TreeSet<>(compartments)) {
                String keyRef = keyRef(compartment);
                KeysetHandle keyset = KeysetHandle.generateNew(DATA_KEY_TEMPLATE);
                fresh.add(new KeyringStore.NewDataKey(compartment, keyRef, TinkProtoKeysetFormat.serializeEncryptedKeyset(
                        keyset, kek.counting(active), keyRef.getBytes(StandardCharsets.UTF_8))));
            }
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("Cannot create and wrap a data key", e);
        }
        Map<String, Loaded> made = new java.util.HashMap<>();
        if (!fresh.isEmpty()) {
            store.insertDataKeysUnlessShredded(active.id(), fresh).forEach((compartment, stored) -> {
                Loaded keyset = loaded(compartment, stored);
                made.put(compartment, keyset);
                unwrapped.asMap().putIfAbsent(compartment, keyset);
            });
        }
        // within the refresh interval only, as a cached keyset (a rotation elsewhere is seen by then)
        return (compartment, plaintext, associatedData) -> java.util.Optional.ofNullable(made.get(compartment))
                .filter(keyset -> nanoClock.getAsLong() - keyset.loadedAt() <= refreshNanos)
                .map(keyset -> encryptWith(keyset, compartment, plaintext, associatedData));
    }

    private byte[] encryptWith(Loaded keyset, String compartment, byte[] plaintext, byte[] associatedData) {
        try {
            byte[] ciphertext = keyset.aead().encrypt(plaintext, associatedData);
            counters.dekEncryption(keyRef(compartment), Integer.toUnsignedLong(keyset.primaryId()));
            return ciphertext;
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("Encryption failed for a record key", e);
        }
    }

    @Override
    public byte[] decrypt(String compartment, byte[] ciphertext, byte[] associatedData) {
        Loaded keyset = forCiphertext(compartment, ciphertext);
        try {
            return keyset.aead().decrypt(ciphertext, associatedData);
        } catch (GeneralSecurityException e) {
            throw new RecordIntegrityException("A stored record failed authentication", e);
        }
    }

    /**
     * Uses the cached keyset whatever its age: the rotation job drops this node's cache when its
     * re-encryption phase begins (after the new keys were added), and only one DEK job runs at a
     * time, so the cache holds the current primary and the job need not unwrap per row.
     */
    @Override
    public Optional<byte[]> reencryptIfStale(String compartment, byte[] ciphertext, byte[] associatedData) {
        Loaded keyset = load(compartment, OnMiss.FAIL, Long.MAX_VALUE);
        Integer keyId = RecordCipher.keyIdOf(ciphertext);
        if (keyId != null && keyId == keyset.primaryId()) {
            return Optional.empty();
        }
        byte[] plaintext = decrypt(compartment, ciphertext, associatedData);
        try {
            byte[] fresh = keyset.aead().encrypt(plaintext, associatedData);
            counters.dekEncryption(keyRef(compartment), Integer.toUnsignedLong(keyset.primaryId()));
            return Optional.of(fresh);
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("Encryption failed for a record key", e);
        }
    }

    /** The cached keyset, re-read if it does not know the ciphertext's key (rotated elsewhere). */
    private Loaded forCiphertext(String compartment, byte[] ciphertext) {
        Loaded keyset = load(compartment, OnMiss.FAIL, Long.MAX_VALUE);
        Integer keyId = RecordCipher.keyIdOf(ciphertext);
        if (keyId != null && !keyset.holds(keyId)) {
            keyset = load(compartment, OnMiss.FAIL, 0);
        }
        return keyset;
    }

    /**
     * Adds a fresh AES256_GCM key to the compartment's keyset and makes it primary. Returns false
     * when the compartment has no keyset (never created, or shredded).
     */
    boolean rotate(String compartment) {
        String keyRef = keyRef(compartment);
        for (int attempt = 0; attempt < 10; attempt++) {
            var stored = store.find(keyRef);
            if (stored.isEmpty()) {
                return false;
            }
            try {
                KeysetHandle current = parse(stored.get());
                KeysetHandle rotated = KeysetHandle.newBuilder(current)
                        .addEntry(KeysetHandle.generateEntryFromParameters(DATA_KEY_TEMPLATE)
                                .withRandomId().makePrimary())
                        .build();
                if (write(keyRef, rotated, stored.get().wrapped())) {
                    store.recordDekKey(keyRef, Integer.toUnsignedLong(rotated.getPrimary().getId()));
                    unwrapped.invalidate(compartment);
                    return true;
                }
            } catch (GeneralSecurityException e) {
                throw new KeyUnavailableException("Cannot rotate a data key", e);
            }
        }
        throw new KeyUnavailableException("A data keyset kept changing while it was being rotated");
    }

    /**
     * Removes from the keyset every key that is neither primary nor in {@code inUse} (the key ids
     * that stored ciphertexts still carry). Returns what was removed.
     */
    Removal removeUnreferenced(String compartment, Set<Integer> inUse) {
        String keyRef = keyRef(compartment);
        for (int attempt = 0; attempt < 10; attempt++) {
            var stored = store.find(keyRef);
            if (stored.isEmpty()) {
                return new Removal(List.of(), 0);
            }
            try {
                KeysetHandle current = parse(stored.get());
                KeysetHandle.Builder builder = KeysetHandle.newBuilder(current);
                List<Long> removed = new ArrayList<>();
                for (int i = current.size() - 1; i >= 0; i--) {
                    var entry = current.getAt(i);
                    if (!entry.isPrimary() && !inUse.contains(entry.getId())) {
                        builder.deleteAt(i);
                        removed.add(Integer.toUnsignedLong(entry.getId()));
                    }
                }
                if (removed.isEmpty()) {
                    return new Removal(removed, current.size());
                }
                KeysetHandle kept = builder.build();
                if (write(keyRef, kept, stored.get().wrapped())) {
                    store.markDekKeysDestroyed(keyRef, removed);
                    unwrapped.invalidate(compartment);
                    return new Removal(removed, kept.size());
                }
            } catch (GeneralSecurityException e) {
                throw new KeyUnavailableException("Cannot remove retired keys from a data keyset", e);
            }
        }
        throw new KeyUnavailableException("A data keyset kept changing while old keys were being removed");
    }

    /** Forgets every unwrapped keyset (a keyset was removed outside rotation, e.g. shredded). */
    void invalidateAll() {
        unwrapped.invalidateAll();
    }

    /** How many keys the compartment's keyset holds (0 if it has none). */
    int keyCount(String compartment) {
        var stored = store.find(keyRef(compartment));
        if (stored.isEmpty()) {
            return 0;
        }
        try {
            return parse(stored.get()).size();
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("A data key cannot be unwrapped", e);
        }
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

    private static String keyRef(String compartment) {
        return "dek/" + compartment;
    }

    /**
     * The compartment's keyset, from the cache when it is young enough. A loading cache: concurrent
     * misses for one compartment wait for a single load (one read of the keyring, one unwrap in the
     * HSM) instead of each unwrapping the same key.
     */
    /** What a cache miss does when the keyring has no key for the compartment. */
    private enum OnMiss {
        /** Reads: the key must exist (destroyed or missing otherwise). */
        FAIL,
        /** Writes: look for the key and its tombstone (one statement), create it if neither is there. */
        LOOK_THEN_CREATE,
        /** The first write of a compartment just made: create without looking; the insert yields or refuses. */
        CREATE
    }

    private Loaded load(String compartment, OnMiss onMiss, long maxAgeNanos) {
        Loaded cached = unwrapped.getIfPresent(compartment);
        if (cached != null) {
            if (nanoClock.getAsLong() - cached.loadedAt() <= maxAgeNanos) {
                return cached;
            }
            // too old for this use: the next get loads it again, once for everyone waiting
            unwrapped.asMap().remove(compartment, cached);
        }
        return unwrapped.get(compartment, key -> loadFromKeyring(key, onMiss));
    }

    private Loaded loadFromKeyring(String compartment, OnMiss onMiss) {
        String keyRef = keyRef(compartment);
        if (onMiss == OnMiss.CREATE) {
            // No look first (ADR 0052): the insert stores ours, or yields the key stored first, or refuses a
            // shredded compartment, under the compartment lock.
            return loaded(compartment, create(compartment, keyRef));
        }
        // A miss that may create a key asks for the key and the tombstone at once (one round trip);
        // one that only reads asks for the tombstone only when the key is missing (rare).
        KeyringStore.Lookup lookup = onMiss == OnMiss.LOOK_THEN_CREATE ? store.lookUp(compartment, keyRef) : null;
        var wrapped = lookup != null ? lookup.key() : store.find(keyRef);
        if (wrapped.isEmpty()) {
            if (lookup != null ? lookup.shredded() : store.isShredded(compartment)) {
                throw new KeyDestroyedException("The compartment's data keys were destroyed by crypto-shredding");
            }
            if (onMiss == OnMiss.FAIL) {
                // The keyring answered and holds no key for a compartment that has records, but no tombstone
                // says it was shredded: a keyring older than the records (restored from an older backup) or
                // a row deleted outside Carapace. Not "destroyed" (ADR 0049): restoring the right keyring may
                // bring the key back, so a read must not tell a clinician the record was erased, and jobs
                // must stop rather than skip the records as shredded.
                throw new KeyMissingException("The keyring holds no data key for a compartment that has records,"
                        + " and no shredding record explains it: the keyring may be older than the records");
            }
            return loaded(compartment, create(compartment, keyRef));
        }
        // Another node's (or an earlier) key, as stored: unwrapped through the KEK before any use.
        return loaded(compartment, wrapped.orElseThrow());
    }

    /**
     * A fresh keyset wrapped by the active KEK and stored, or the key another node stored first.
     * Ours is not read back, but it is unwrapped through the KEK before any use ({@link #loaded}),
     * so that a key whose only stored copy cannot be opened never encrypts a record.
     */
    private KeyringStore.WrappedKey create(String compartment, String keyRef) {
        Optional<KeyringStore.WrappedKey> stored;
        try {
            KeysetHandle fresh = KeysetHandle.generateNew(DATA_KEY_TEMPLATE);
            KeyEncryptionKey active = kek.active();
            byte[] sealed = TinkProtoKeysetFormat.serializeEncryptedKeyset(fresh, kek.counting(active),
                    keyRef.getBytes(StandardCharsets.UTF_8));
            // Under the compartment lock and refused once shredded: no new key for a shredded patient. Committed
            // with the other new patients' keys of the moment, before this returns.
            stored = firstKeys.insertUnlessShredded(compartment, keyRef, active.id(), sealed);
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("Cannot create and wrap a data key", e);
        }
        return stored.orElseThrow(
                () -> new KeyDestroyedException("The compartment's data keys were destroyed by crypto-shredding"));
    }

    /**
     * What encrypts and decrypts with the keyset. For one AES-GCM key, Tink's primitive of that key:
     * it writes and checks the same 5-byte key-id prefix as the keyset's wrapper, which holds the same
     * primitive plus the whole keyset around it. For several keys (during a rotation), the wrapper,
     * which finds the key of a ciphertext by its prefix.
     */
    static Aead primitive(KeysetHandle handle) throws GeneralSecurityException {
        if (handle.size() == 1 && handle.getPrimary().getKey() instanceof AesGcmKey key) {
            return AesGcmJce.create(key);
        }
        return handle.getPrimitive(RegistryConfiguration.get(), Aead.class);
    }

    /** The keyset unwrapped from {@code wrapped}, checked and ready. */
    private Loaded loaded(String compartment, KeyringStore.WrappedKey wrapped) {
        try {
            KeysetHandle handle = parse(wrapped);
            // A keyset below the floor (planted, or left by an old version) is never used.
            TinkAlgorithms.requireAllowed(COMPONENT, handle);
            loaded.addAll(TinkAlgorithms.describe(COMPONENT, handle));
            int[] keyIds = new int[handle.size()];
            for (int i = 0; i < keyIds.length; i++) {
                keyIds[i] = handle.getAt(i).getId();
            }
            return new Loaded(primitive(handle), keyIds, handle.getPrimary().getId(), nanoClock.getAsLong());
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("A data key cannot be unwrapped by the KEK "
                    + wrapped.kekId() + " (wrong or missing KEK?)", e);
        }
    }
}
