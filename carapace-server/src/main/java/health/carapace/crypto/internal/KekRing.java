package health.carapace.crypto.internal;

import com.google.crypto.tink.Aead;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyUnavailableException;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Every version of the KEK, as recorded in {@code keyring.key_version}: new wraps use the active
 * version; unwrapping uses the version named beside the wrapped key, as long as it is not retired.
 * As a {@link KeyEncryptionKey} it is the active version (decryption also accepts decrypt-only
 * versions), so code that wraps and unwraps in one place keeps working across a rotation.
 */
final class KekRing implements KeyEncryptionKey {

    static final String KIND = "kek";

    private final KekSource source;
    private final KeyringStore store;
    private final UsageCounters counters;
    private final long refreshNanos;
    private final ConcurrentMap<String, KeyEncryptionKey> opened = new ConcurrentHashMap<>();
    private volatile Snapshot snapshot;

    private record Snapshot(List<KeyringStore.KeyVersion> versions, long loadedAt) {}

    KekRing(KekSource source, KeyringStore store, UsageCounters counters, Duration refresh) {
        this.source = source;
        this.store = store;
        this.counters = counters;
        this.refreshNanos = refresh.toNanos();
    }

    /** Whether the KEK's home answers now (readiness: the HSM session). */
    boolean sourceReachable() {
        return source.reachable();
    }

    /** Records the already opened version 1 if the keyring predates versioning. */
    void bootstrap(KeyEncryptionKey first) {
        opened.put(first.id(), first);
        store.insertFirstVersion(KIND, first.id());
        versions(true);
        active();
    }

    List<KeyringStore.KeyVersion> versions(boolean fresh) {
        Snapshot s = snapshot;
        if (fresh || s == null || System.nanoTime() - s.loadedAt() > refreshNanos) {
            s = new Snapshot(store.versions(KIND), System.nanoTime());
            snapshot = s;
        }
        return s.versions();
    }

    KeyringStore.KeyVersion activeVersion() {
        return versions(false).stream().filter(v -> v.state().equals("active")).findFirst()
                .orElseThrow(() -> new KeyUnavailableException("The keyring has no active KEK version"));
    }

    KeyringStore.KeyVersion activeVersionFresh() {
        versions(true);
        return activeVersion();
    }

    /** The version new wraps must use. */
    KeyEncryptionKey active() {
        return open(activeVersion().keyId());
    }

    /** The version that wrapped a stored key, refused once retired. */
    KeyEncryptionKey unwrapping(String kekId) {
        KeyringStore.KeyVersion version = find(kekId);
        if (version == null) {
            version = versions(true).stream().filter(v -> v.keyId().equals(kekId)).findFirst()
                    .orElseThrow(() -> new KeyUnavailableException("The keyring has no KEK version " + kekId));
        }
        if (version.state().equals("retired")) {
            throw new KeyUnavailableException("The KEK version " + kekId + " is retired and no longer unwraps keys");
        }
        return open(kekId);
    }

    /**
     * Generates the next version in the HSM or dev keystore and makes it active; the previous
     * one becomes decrypt-only. Returns the new version. Safe to repeat after a crash.
     */
    KeyringStore.KeyVersion rotate() {
        int next = versions(true).stream().mapToInt(KeyringStore.KeyVersion::version).max().orElse(0) + 1;
        String keyId = source.keyId(next);
        opened.put(keyId, source.create(keyId));
        store.activate(KIND, next, keyId);
        versions(true);
        return activeVersion();
    }

    /**
     * Every version that still wraps or unwraps (active and decrypt-only), opened: the algorithm
     * inventory judges each one's size, so a weak old version cannot hide behind a strong new one.
     */
    List<KeyEncryptionKey> usableVersions() {
        return versions(true).stream().filter(v -> !v.state().equals("retired"))
                .map(v -> open(v.keyId())).toList();
    }

    private KeyringStore.KeyVersion find(String kekId) {
        return versions(false).stream().filter(v -> v.keyId().equals(kekId)).findFirst().orElse(null);
    }

    private KeyEncryptionKey open(String kekId) {
        return opened.computeIfAbsent(kekId, source::open);
    }

    @Override
    public String id() {
        return activeVersion().keyId();
    }

    @Override
    public byte[] encrypt(byte[] plaintext, byte[] associatedData) throws GeneralSecurityException {
        KeyEncryptionKey kek = active();
        byte[] wrapped = kek.encrypt(plaintext, associatedData);
        counters.kekEncryption(kek.id());
        return wrapped;
    }

    /** Encrypts under a given version (the job that re-wraps uses the version it targets). */
    byte[] encryptWith(KeyEncryptionKey kek, byte[] plaintext, byte[] associatedData) throws GeneralSecurityException {
        byte[] wrapped = kek.encrypt(plaintext, associatedData);
        counters.kekEncryption(kek.id());
        return wrapped;
    }

    /** {@code kek} as a Tink {@link Aead} whose encryptions are counted against it. */
    Aead counting(KeyEncryptionKey kek) {
        return new Aead() {
            @Override
            public byte[] encrypt(byte[] plaintext, byte[] associatedData) throws GeneralSecurityException {
                return encryptWith(kek, plaintext, associatedData);
            }

            @Override
            public byte[] decrypt(byte[] ciphertext, byte[] associatedData) throws GeneralSecurityException {
                return kek.decrypt(ciphertext, associatedData);
            }
        };
    }

    @Override
    public byte[] decrypt(byte[] ciphertext, byte[] associatedData) throws GeneralSecurityException {
        GeneralSecurityException last = null;
        List<KeyringStore.KeyVersion> all = versions(false);
        for (int i = all.size() - 1; i >= 0; i--) {
            KeyringStore.KeyVersion version = all.get(i);
            if (version.state().equals("retired")) {
                continue;
            }
            try {
                return open(version.keyId()).decrypt(ciphertext, associatedData);
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw last != null ? last : new GeneralSecurityException("no usable KEK version");
    }
}
