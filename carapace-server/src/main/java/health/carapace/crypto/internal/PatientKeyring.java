package health.carapace.crypto.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import health.carapace.crypto.KeyDestroyedException;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyShredder;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.crypto.RecordCipher;
import health.carapace.crypto.RecordIntegrityException;
import health.carapace.platform.config.AlgorithmUse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Tink AES256_GCM keyset per compartment, wrapped by the KEK in the keyring, unwrapped on
 * demand into a bounded, time-limited cache.
 *
 * <p>Crypto-shredding: a shredded compartment's keys are deleted and the keyring keeps a
 * tombstone, so a cache miss for it fails with {@link KeyDestroyedException} and no new key is
 * ever made for it. Other nodes may still hold the key in their caches; each node checks its
 * cached compartments against the tombstones every few seconds and evicts shredded ones. (Reads
 * and writes do not wait for that: the record path refuses a shredded compartment from the PHI
 * database's tombstone first, whatever is cached.)
 */
final class PatientKeyring implements RecordCipher, KeyShredder, AutoCloseable {

    private static final Pattern PATIENT_COMPARTMENT =
            Pattern.compile("Patient/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Logger log = LoggerFactory.getLogger(PatientKeyring.class);
    /** How often cached keys are checked against the keyring's shredded compartments. */
    static final Duration SHRED_CHECK_INTERVAL = Duration.ofSeconds(5);

    private final KeyringStore store;
    private final KeyEncryptionKey kek;
    private final Cache<String, Aead> unwrapped;
    private final ScheduledExecutorService shredCheck;
    /** The distinct algorithms of every data keyset unwrapped so far, for the inventory. */
    private final Set<AlgorithmUse> loaded = java.util.concurrent.ConcurrentHashMap.newKeySet();
    static final String COMPONENT = "record data keys";
    /** What every new data key is: Tink AES256_GCM (256-bit key, 96-bit random nonce, 128-bit tag). */
    static final com.google.crypto.tink.Parameters DATA_KEY_TEMPLATE = PredefinedAeadParameters.AES256_GCM;

    PatientKeyring(KeyringStore store, KeyEncryptionKey kek, KeyringProperties properties) {
        this.store = store;
        this.kek = kek;
        this.unwrapped = Caffeine.newBuilder()
                .maximumSize(properties.dekCacheSize())
                .expireAfterAccess(properties.dekCacheTtl())
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
            return TinkAlgorithms.describe(COMPONENT, TinkProtoKeysetFormat.parseEncryptedKeyset(
                    wrapped.get().wrapped(), kek, keyRef.getBytes(StandardCharsets.UTF_8)));
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

    /** Evicts every cached key whose compartment the keyring records as shredded; returns how many. */
    int evictShredded() {
        List<String> shredded = store.shreddedAmong(Set.copyOf(unwrapped.asMap().keySet()));
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
            if (store.isShredded(compartment)) {
                throw new KeyDestroyedException("The compartment's data keys were destroyed by crypto-shredding");
            }
            if (!createIfMissing) {
                throw new KeyUnavailableException("No data key exists for a record's compartment");
            }
            boolean stored;
            try {
                KeysetHandle fresh = KeysetHandle.generateNew(DATA_KEY_TEMPLATE);
                stored = store.insertDataKeyUnlessShredded(compartment, keyRef, kek.id(),
                        TinkProtoKeysetFormat.serializeEncryptedKeyset(fresh, kek, associatedData));
            } catch (GeneralSecurityException e) {
                throw new KeyUnavailableException("Cannot create and wrap a data key", e);
            }
            if (!stored) {
                throw new KeyDestroyedException("The compartment's data keys were destroyed by crypto-shredding");
            }
            wrapped = store.find(keyRef);
            if (wrapped.isEmpty()) {
                throw new KeyDestroyedException("The compartment's data keys were destroyed by crypto-shredding");
            }
        }
        try {
            KeysetHandle handle = TinkProtoKeysetFormat.parseEncryptedKeyset(
                    wrapped.orElseThrow().wrapped(), kek, associatedData);
            // A keyset below the floor (planted, or left by an old version) is never used.
            TinkAlgorithms.requireAllowed(COMPONENT, handle);
            loaded.addAll(TinkAlgorithms.describe(COMPONENT, handle));
            Aead aead = handle.getPrimitive(RegistryConfiguration.get(), Aead.class);
            unwrapped.put(compartment, aead);
            return aead;
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("A data key cannot be unwrapped by the KEK "
                    + wrapped.get().kekId() + " (wrong or missing KEK?)", e);
        }
    }
}
