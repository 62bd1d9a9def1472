package health.carapace.crypto.internal;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.crypto.internal.KeyJobs.Job;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * KEK rotation ({@code rewrap-kek}): create-version → settle → rewrap → retire. A new KEK version
 * becomes active, every wrapped key not under it is re-wrapped (HSM calls in parallel,
 * compare-and-set batch writes), then the old versions are retired once nothing is wrapped by them.
 */
final class KekRewrap implements KeyJobKind, AutoCloseable {

    private final KeyringStore store;
    private final KekRing kek;
    private final KeysProperties properties;
    private final HsmWorkers hsm;
    /** Decides whether the active version has reached its maximum age. */
    private final Clock clock;
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "key-rewrap-writer");
        t.setDaemon(true);
        return t;
    });

    KekRewrap(KeyringStore store, KekRing kek, KeysProperties properties, HsmWorkers hsm, Clock clock) {
        this.store = store;
        this.clock = clock;
        this.kek = kek;
        this.properties = properties;
        this.hsm = hsm;
    }

    @Override
    public String name() {
        return "rewrap-kek";
    }

    @Override
    public String firstPhase() {
        return "create-version";
    }

    @Override
    public String resource() {
        return "/keys/kek";
    }

    /** Whether the active version is older than the configured maximum age. */
    boolean due() {
        KeyringStore.KeyVersion active = kek.versions(true).stream().filter(v -> v.state().equals("active"))
                .findFirst().orElseThrow();
        return !active.createdAt().plus(properties.kekMaxAge()).isAfter(clock.instant());
    }

    @Override
    public Job step(Job job, KeyJobs runner) {
        switch (job.phase()) {
            case "create-version" -> {
                KeyringStore.KeyVersion active = kek.activeVersionFresh();
                if (!active.createdAt().isAfter(job.startedAt())) {
                    active = kek.rotate();
                }
                runner.audit("/keys/kek/v" + active.version() + "/activated", null);
                return runner.settle(job);
            }
            case "settle" -> {
                return runner.awaitSettled(job, "rewrap");
            }
            case "rewrap" -> {
                return rewrapAll(job, runner);
            }
            case "retire" -> {
                for (KeyringStore.KeyVersion version : kek.versions(true)) {
                    if (!version.state().equals("decrypt-only")) {
                        continue;
                    }
                    if (store.countWrappedBy(version.keyId()) > 0) {
                        // A node with a stale view wrapped under it meanwhile: another pass.
                        return runner.phase(job, "rewrap", null);
                    }
                    runner.audit("/keys/kek/v" + version.version() + "/retired", null);
                    store.retire(KekRing.KIND, version.version());
                }
                kek.versions(true);
                return runner.finish(job);
            }
            default -> throw new IllegalStateException("unknown phase " + job.phase());
        }
    }

    /**
     * Re-wraps batch after batch. The database write of one batch overlaps the HSM work of the
     * next; the checkpoint moves only once a batch is written, so a crash redoes at most two
     * batches (harmless: rows already under the active version are no longer selected).
     */
    private Job rewrapAll(Job job, KeyJobs runner) {
        KeyEncryptionKey target = kek.active();
        String after = job.checkpoint() == null ? "" : job.checkpoint();
        Future<Integer> writing = null;
        String writingUpTo = null;
        int writingCount = 0;
        Job current = job;
        while (true) {
            List<KeyringStore.WrappedKey> batch = store.notWrappedBy(target.id(), after, properties.batchSize());
            List<KeyringStore.Rewrite> rewrites = batch.isEmpty() ? List.of() : rewrap(batch, target);
            if (writing != null) {
                HsmWorkers.await(writing);
                current = runner.checkpoint(current, writingUpTo, writingCount);
                writing = null;
            }
            if (batch.isEmpty()) {
                return runner.phase(current, "retire", null);
            }
            writing = writer.submit(() -> store.compareAndSet(rewrites));
            after = batch.get(batch.size() - 1).keyRef();
            writingUpTo = after;
            writingCount = batch.size();
        }
    }

    /** Unwraps with the old version and wraps with the new one, in slices in parallel on the HSM. */
    private List<KeyringStore.Rewrite> rewrap(List<KeyringStore.WrappedKey> batch, KeyEncryptionKey target) {
        int slices = Math.min(hsm.parallelism(), Math.max(1, batch.size() / 16));
        int per = (batch.size() + slices - 1) / slices;
        List<List<KeyringStore.WrappedKey>> sliced = new ArrayList<>();
        for (int from = 0; from < batch.size(); from += per) {
            sliced.add(batch.subList(from, Math.min(batch.size(), from + per)));
        }
        List<KeyringStore.Rewrite> rewrites = new ArrayList<>(batch.size());
        for (List<KeyringStore.Rewrite> slice : hsm.parallel(sliced, slice -> slice.stream()
                .map(key -> rewrapOne(key, target)).toList())) {
            rewrites.addAll(slice);
        }
        return rewrites;
    }

    private KeyringStore.Rewrite rewrapOne(KeyringStore.WrappedKey key, KeyEncryptionKey target) {
        byte[] associatedData = key.keyRef().getBytes(StandardCharsets.UTF_8);
        try {
            KeyEncryptionKey old = kek.unwrapping(key.kekId());
            byte[] rewrapped;
            if (key.keyRef().startsWith("secret/")) {
                rewrapped = kek.encryptWith(target, old.decrypt(key.wrapped(), associatedData), associatedData);
            } else {
                KeysetHandle keyset = TinkProtoKeysetFormat.parseEncryptedKeyset(key.wrapped(), old, associatedData);
                rewrapped = TinkProtoKeysetFormat.serializeEncryptedKeyset(keyset, kek.counting(target), associatedData);
            }
            return new KeyringStore.Rewrite(key.keyRef(), target.id(), rewrapped, key.wrapped());
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("A wrapped key cannot be re-wrapped: it does not unwrap under "
                    + key.kekId(), e);
        }
    }

    @Override
    public void close() {
        writer.shutdownNow();
    }
}
