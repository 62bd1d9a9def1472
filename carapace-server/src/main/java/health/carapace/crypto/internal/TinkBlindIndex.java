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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

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
    private final ConcurrentMap<String, SecretKeySpec> indexKeys = new ConcurrentHashMap<>();
    /**
     * Per index key, a Mac initialised with it and never used itself: each token works on a clone.
     * Looking the provider up and keying HMAC on every token was most of a token's cost (JFR,
     * issue 13 item 5); a clone copies the keyed state (the same JDK HMAC, nothing hand-made).
     */
    private final ConcurrentMap<String, Mac> keyedMacs = new ConcurrentHashMap<>();
    private volatile Snapshot snapshot;

    TinkBlindIndex(KeyringStore store, KekRing kek, Duration refresh) {
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

    /** A fresh Mac keyed for the index: a clone of the keyed prototype, or (not cloneable) keyed anew. */
    private Mac macFor(String name, int keyVersion, String index) throws GeneralSecurityException {
        SecretKeySpec key = indexKeys.computeIfAbsent(name, k -> deriveIndexKey(keyVersion, index));
        Mac prototype = keyedMacs.get(name);
        if (prototype == null) {
            prototype = Mac.getInstance(TOKEN_MAC);
            prototype.init(key);
            keyedMacs.putIfAbsent(name, prototype);
        }
        try {
            return (Mac) prototype.clone();
        } catch (CloneNotSupportedException e) {
            Mac mac = Mac.getInstance(TOKEN_MAC);
            mac.init(key);
            return mac;
        }
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
        versions(true);
        roots.remove(version);
        rootAlgorithms.remove(version);
        indexKeys.keySet().removeIf(k -> k.startsWith(version + "/"));
        keyedMacs.keySet().removeIf(k -> k.startsWith(version + "/"));
    }

    private PrfSet root(int version) {
        return roots.computeIfAbsent(version, v -> {
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
    }

    /** The index's HMAC key (for a test that recomputes tokens with a Mac of its own). */
    SecretKeySpec indexKey(int version, String index) {
        return indexKeys.computeIfAbsent(version + "/" + index, k -> deriveIndexKey(version, index));
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
