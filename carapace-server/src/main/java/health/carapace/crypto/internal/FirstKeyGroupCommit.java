package health.carapace.crypto.internal;

import health.carapace.crypto.KeyUnavailableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Group commit of new patients' first data keys: the request threads creating patients at the
 * same moment hand their wrapped keys to one writer thread, which stores everything waiting in one
 * keyring transaction ({@link KeyringStore#insertDataKeysUnlessShredded}: its waits bounded, the
 * compartment locks in one order, then one insert) and commits once, then releases every waiting request. Each request
 * still waits for its own key to be committed before it encrypts with it, exactly as when it
 * committed alone; what the batch shares is the round trips, the transaction and the WAL flush of
 * the commit (issue 13: a create made two commits, the keyring's and the records').
 *
 * <p>The rules of a single first key hold for each key of a batch: a key another node stored first
 * is kept and handed back instead, and a shredded compartment gets none (empty). The insert gets
 * a compartment at most once (the first key given for it) and every request is answered with what
 * its compartment holds after the commit, so a second key for one compartment gets the first back,
 * never its own unstored one. Keys wrapped by different KEK versions (a KEK rotation underway) are
 * stored in one transaction per version.
 */
final class FirstKeyGroupCommit implements AutoCloseable {

    /** A key to store and the answer its request waits for: what the compartment now has, or empty if shredded. */
    private record Pending(String kekId, KeyringStore.NewDataKey key,
            CompletableFuture<Optional<KeyringStore.WrappedKey>> stored) {}

    private final KeyringStore store;
    private final BlockingQueue<Pending> queue;
    private final int maxBatch;
    private final Duration timeout;
    private final Thread writer;
    private volatile boolean running = true;

    /**
     * {@code timeout}: how long a request waits to hand its key over and for the commit, after which
     * it is refused ({@link KeyUnavailableException}) as when the keyring cannot be reached.
     */
    FirstKeyGroupCommit(KeyringStore store, int maxBatch, Duration timeout) {
        this.store = store;
        this.maxBatch = maxBatch;
        this.timeout = timeout;
        this.queue = new ArrayBlockingQueue<>(maxBatch * 8);
        this.writer = new Thread(this::writeLoop, "keyring-first-keys");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /**
     * Stores the compartment's first key unless it has one or is shredded, committed before this
     * returns. Returns the key the compartment now has: {@code wrapped} (the same bytes: the caller
     * need not read it back), the key another node stored first, or empty if shredded.
     */
    Optional<KeyringStore.WrappedKey> insertUnlessShredded(String compartment, String keyRef, String kekId,
            byte[] wrapped) {
        Pending pending = new Pending(kekId, new KeyringStore.NewDataKey(compartment, keyRef, wrapped),
                new CompletableFuture<>());
        // one bound for handing the key over and for its commit together
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            if (!running || !queue.offer(pending, timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new KeyUnavailableException("The keyring is not accepting new data keys");
            }
            if (!running && queue.remove(pending)) {
                // closed while this key was being handed over, after close() took what was waiting
                throw new KeyUnavailableException("The keyring is not accepting new data keys");
            }
            return pending.stored().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw new KeyUnavailableException("Cannot store a new data key in the keyring", e.getCause());
        } catch (TimeoutException e) {
            throw new KeyUnavailableException("The keyring did not store a new data key in time", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KeyUnavailableException("Interrupted while waiting for the keyring", e);
        }
    }

    /** How many keys wait to be handed to the writer (not those in the batch it is storing). */
    int waiting() {
        return queue.size();
    }

    private void writeLoop() {
        while (running) {
            try {
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                List<Pending> batch = new ArrayList<>();
                batch.add(first);
                queue.drainTo(batch, maxBatch - 1);
                store(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * One keyring transaction per KEK version in the batch (one, outside a KEK rotation). The insert
     * gets each compartment once, the first key given for it; every request is answered with what its
     * compartment has after the commit, so a second key for a compartment gets the first one back.
     */
    private void store(List<Pending> batch) {
        Map<String, List<Pending>> byKek = new LinkedHashMap<>();
        batch.forEach(pending -> byKek.computeIfAbsent(pending.kekId(), kek -> new ArrayList<>()).add(pending));
        byKek.forEach((kekId, pendings) -> {
            Map<String, KeyringStore.NewDataKey> firstPerCompartment = new LinkedHashMap<>();
            pendings.forEach(pending -> firstPerCompartment.putIfAbsent(pending.key().compartment(), pending.key()));
            try {
                Map<String, KeyringStore.WrappedKey> now = store.insertDataKeysUnlessShredded(kekId,
                        List.copyOf(firstPerCompartment.values()));
                pendings.forEach(pending -> pending.stored().complete(
                        Optional.ofNullable(now.get(pending.key().compartment()))));
            } catch (RuntimeException | Error e) {
                // each request is refused with the cause, as when it stored its key itself; the writer goes on
                pendings.forEach(pending -> pending.stored().completeExceptionally(e));
            }
        });
    }

    @Override
    public void close() {
        running = false;
        // the batch being stored is still answered by the writer (its statements are bounded, ADR 0057)
        writer.interrupt();
        Pending left;
        while ((left = queue.poll()) != null) {
            left.stored().completeExceptionally(new IllegalStateException("the keyring's writer stopped"));
        }
    }
}
