package health.carapace.crypto.internal;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.prf.PredefinedPrfParameters;
import com.google.crypto.tink.prf.PrfSet;
import health.carapace.crypto.BlindIndex;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.platform.config.AlgorithmUse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Provider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Blind indexes after CipherSweet: an index root key (Tink HKDF-SHA256 PRF, wrapped by the KEK)
 * derives one HMAC-SHA256 key per index; tokens are the HMAC truncated to the requested bits.
 *
 * <p>The root key has versions (ADR 0010): version 1 is stored as {@code index-root}, version n
 * as {@code index-root/v<n>}. New tokens use the active version; while a re-index runs, the
 * previous version stays searchable.
 */
final class TinkBlindIndex implements BlindIndex {

    static final String KIND = "index-root";
    private static final String FIRST_REF = "index-root";

    static final String COMPONENT = "blind-index root key";
    /** Tokens are HMAC-SHA256 under a 256-bit key derived per index. */
    static final String TOKEN_MAC = "HmacSHA256";
    static final int INDEX_KEY_BYTES = 32;

    private record Snapshot(List<KeyringStore.KeyVersion> versions, long loadedAt) {}

    private final KeyringStore store;
    private final KekRing kek;
    private final long refreshNanos;
    private final ConcurrentMap<Integer, PrfSet> roots = new ConcurrentHashMap<>();
    /** The algorithms of each root key version unwrapped so far (every key of its keyset). */
    private final ConcurrentMap<Integer, List<AlgorithmUse>> rootAlgorithms = new ConcurrentHashMap<>();
    /**
     * Per index key ({@code "<version>/<index>"}), the key and a Mac initialised with it and never
     * used itself: each token works on a clone. Looking the provider up and keying HMAC on every
     * token was most of a token's cost (JFR, issue 13 item 5); a clone copies the keyed state (the
     * same JDK HMAC, nothing hand-made). Package-private so that tests in this package can see
     * that a retired version's keys are gone.
     */
    final ConcurrentMap<String, Keyed> keyedMacs = new ConcurrentHashMap<>();
    /**
     * Versions retired through this node. {@link #retire} marks a version here before it empties
     * the caches, and a computation that cached a key looks here after caching it: so either
     * retire's sweep sees (and drops) what was cached, or the computation sees the mark and drops
     * it itself. A retired version's key is never left cached (review of issue 13 item 5, L2).
     */
    private final Set<Integer> retired = ConcurrentHashMap.newKeySet();
    /** Null: the JDK's provider for {@link #TOKEN_MAC}; a test may name another one. */
    private final Provider macProvider;
    /** Whether the provider's keyed Macs can be cloned; false after the first refusal. */
    private volatile boolean macsCloneable = true;
    private final AtomicBoolean cloneRefusalLogged = new AtomicBoolean();
    private volatile Snapshot snapshot;

    /**
     * An index key and its keyed Mac. When the provider cannot clone Macs, each thread keys one
     * Mac of its own once per index key and reuses it (doFinal resets a Mac to its keyed state);
     * it goes with this object when the version is retired.
     */
    static final class Keyed {
        final SecretKeySpec key;
        final Mac prototype;
        final ThreadLocal<Mac> perThread = new ThreadLocal<>();

        Keyed(SecretKeySpec key, Mac prototype) {
            this.key = key;
            this.prototype = prototype;
        }
    }

    private static final Logger log = LoggerFactory.getLogger(TinkBlindIndex.class);

    TinkBlindIndex(KeyringStore store, KekRing kek, Duration refresh) {
        this(store, kek, refresh, null);
    }

    /** With {@code macProvider} (null for the JDK's): a test's provider whose Macs cannot be cloned. */
    TinkBlindIndex(KeyringStore store, KekRing kek, Duration refresh, Provider macProvider) {
        this.macProvider = macProvider;
        this.store = store;
        this.kek = kek;
        this.refreshNanos = refresh.toNanos();
        try {
            if (store.find(FIRST_REF).isEmpty()) {
                KeysetHandle fresh = KeysetHandle.generateNew(PredefinedPrfParameters.HKDF_SHA256);
                KeyEncryptionKey active = kek.active();
                store.insertIfAbsent(FIRST_REF, active.id(), TinkProtoKeysetFormat.serializeEncryptedKeyset(fresh,
                        kek.counting(active), FIRST_REF.getBytes(StandardCharsets.UTF_8)));
            }
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("The index root key cannot be created", e);
        }
        store.insertFirstVersion(KIND, FIRST_REF);
        root(activeVersion());
    }

    static String keyRef(int version) {
        return version == 1 ? FIRST_REF : FIRST_REF + "/v" + version;
    }

    List<KeyringStore.KeyVersion> versions(boolean fresh) {
        Snapshot s = snapshot;
        if (fresh || s == null || System.nanoTime() - s.loadedAt() > refreshNanos) {
            s = new Snapshot(store.versions(KIND), System.nanoTime());
            snapshot = s;
        }
        return s.versions();
    }

    /**
     * The algorithms of every usable root key version (active and decrypt-only; every key of
     * each keyset), unwrapping any not yet loaded so that each is judged against the floor.
     */
    List<AlgorithmUse> rootAlgorithms() {
        List<AlgorithmUse> uses = new ArrayList<>();
        for (KeyringStore.KeyVersion v : versions(true)) {
            if (!v.state().equals("retired")) {
                root(v.version());
                uses.addAll(rootAlgorithms.getOrDefault(v.version(), List.of()));
            }
        }
        return uses;
    }

    @Override
    public int activeVersion() {
        return versions(false).stream().filter(v -> v.state().equals("active")).mapToInt(KeyringStore.KeyVersion::version)
                .findFirst().orElseThrow(() -> new KeyUnavailableException("The keyring has no active index root key"));
    }

    @Override
    public List<Integer> searchableVersions() {
        List<Integer> versions = new ArrayList<>();
        versions.add(activeVersion());
        for (KeyringStore.KeyVersion v : versions(false)) {
            if (v.state().equals("decrypt-only")) {
                versions.add(v.version());
            }
        }
        return versions;
    }

    @Override
    public int token(int keyVersion, String index, String normalisedValue, int bits) {
        if (bits < 1 || bits > 32) {
            throw new IllegalArgumentException("bits must be within 1..32");
        }
        try {
            String name = keyVersion + "/" + index;
            Mac mac = macFor(name, keyVersion, index);
            byte[] digest = mac.doFinal(normalisedValue.getBytes(StandardCharsets.UTF_8));
            int first32 = ByteBuffer.wrap(digest, 0, 4).getInt();
            return bits == 32 ? first32 : first32 >>> (32 - bits);
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("Blind index computation failed", e);
        }
    }

    /**
     * A Mac keyed for the index, ready for one token: a clone of the keyed prototype, or (a provider
     * that cannot clone) this thread's own Mac for the key.
     */
    private Mac macFor(String name, int keyVersion, String index) throws GeneralSecurityException {
        Keyed keyed = keyedMacs.get(name);
        if (keyed == null) {
            keyed = keyed(name, keyVersion, index);
        }
        if (macsCloneable) {
            try {
                return (Mac) keyed.prototype.clone();
            } catch (CloneNotSupportedException e) {
                macsCloneable = false;
                // Once per index; the provider's name only (no key, no index, no value).
                if (!cloneRefusalLogged.getAndSet(true)) {
                    log.warn("The {} provider {} cannot clone a keyed Mac: blind-index tokens use one Mac per "
                            + "thread and index key instead", TOKEN_MAC, keyed.prototype.getProvider().getName());
                }
            }
        }
        Mac mine = keyed.perThread.get();
        if (mine == null) {
            mine = newMac();
            mine.init(keyed.key);
            keyed.perThread.set(mine);
        }
        return mine;
    }

    /** Derives the index key and keys its prototype Mac, caching both unless the version was retired meanwhile. */
    private Keyed keyed(String name, int keyVersion, String index) throws GeneralSecurityException {
        SecretKeySpec key = deriveIndexKey(keyVersion, index);
        Mac prototype = newMac();
        prototype.init(key);
        Keyed mine = new Keyed(key, prototype);
        Keyed cached = keyedMacs.putIfAbsent(name, mine);
        Keyed keyed = cached == null ? mine : cached;
        if (retired.contains(keyVersion)) {
            // retire() ran while this key was derived: its sweep may have missed this entry.
            keyedMacs.remove(name, keyed);
            throw retiredVersion(keyVersion);
        }
        return keyed;
    }

    private Mac newMac() throws GeneralSecurityException {
        return macProvider == null ? Mac.getInstance(TOKEN_MAC) : Mac.getInstance(TOKEN_MAC, macProvider);
    }

    private static KeyUnavailableException retiredVersion(int version) {
        return new KeyUnavailableException("The index root key version " + version + " is retired");
    }

    /** Creates the next root key version and makes it active; returns its number. Idempotent. */
    int rotate() {
        int next = versions(true).stream().mapToInt(KeyringStore.KeyVersion::version).max().orElse(0) + 1;
        String ref = keyRef(next);
        try {
            if (store.find(ref).isEmpty()) {
                KeysetHandle fresh = KeysetHandle.generateNew(PredefinedPrfParameters.HKDF_SHA256);
                KeyEncryptionKey active = kek.active();
                store.insertIfAbsent(ref, active.id(), TinkProtoKeysetFormat.serializeEncryptedKeyset(fresh,
                        kek.counting(active), ref.getBytes(StandardCharsets.UTF_8)));
            }
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("A new index root key cannot be created", e);
        }
        store.activate(KIND, next, ref);
        versions(true);
        return next;
    }

    void retire(int version) {
        store.retire(KIND, version);
        // Marked before the caches are emptied (see the field's comment); only a version the store
        // now holds retired (the store refuses to retire the active one).
        if (versions(true).stream().anyMatch(v -> v.version() == version && v.state().equals("retired"))) {
            retired.add(version);
        }
        roots.remove(version);
        rootAlgorithms.remove(version);
        keyedMacs.keySet().removeIf(k -> k.startsWith(version + "/"));
    }

    private PrfSet root(int version) {
        if (retired.contains(version)) {
            throw retiredVersion(version);
        }
        PrfSet root = roots.computeIfAbsent(version, v -> {
            KeyringStore.KeyVersion known = versions(false).stream().filter(k -> k.version() == v).findFirst()
                    .orElseGet(() -> versions(true).stream().filter(k -> k.version() == v).findFirst().orElseThrow(
                            () -> new KeyUnavailableException("The keyring has no index root key version " + v)));
            if (known.state().equals("retired")) {
                throw new KeyUnavailableException("The index root key version " + v + " is retired");
            }
            String ref = keyRef(v);
            KeyringStore.WrappedKey wrapped = store.find(ref)
                    .orElseThrow(() -> new KeyUnavailableException("The index root key version " + v + " is missing"));
            try {
                KeysetHandle handle = TinkProtoKeysetFormat.parseEncryptedKeyset(wrapped.wrapped(),
                        kek.unwrapping(wrapped.kekId()), ref.getBytes(StandardCharsets.UTF_8));
                // A root keyset below the floor (planted, or left by an old version) is never used.
                TinkAlgorithms.requireAllowed(COMPONENT, handle);
                rootAlgorithms.put(v, TinkAlgorithms.describe(COMPONENT, handle));
                return handle.getPrimitive(RegistryConfiguration.get(), PrfSet.class);
            } catch (GeneralSecurityException e) {
                throw new KeyUnavailableException("The index root key cannot be unwrapped by the KEK", e);
            }
        });
        if (retired.contains(version)) {
            // Unwrapped from a snapshot taken before a concurrent retire() (the same rule as keyedMacs).
            roots.remove(version, root);
            rootAlgorithms.remove(version);
            throw retiredVersion(version);
        }
        return root;
    }

    private SecretKeySpec deriveIndexKey(int version, String index) {
        try {
            byte[] key = root(version).computePrimary(
                    ("carapace/blind-index/v1/" + index).getBytes(StandardCharsets.UTF_8), INDEX_KEY_BYTES);
            return new SecretKeySpec(key, TOKEN_MAC);
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("Cannot derive a blind-index key", e);
        }
    }
}
