package health.carapace.crypto.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/** The threads on which key jobs call the HSM (or the dev keystore) in parallel. */
final class HsmWorkers implements AutoCloseable {

    private final int parallelism;
    private final ExecutorService pool;

    HsmWorkers() {
        // Token calls spend much of their time waiting (on the HSM, or for SoftHSM2 on its object
        // files): measured with SoftHSM2 on two cores, 8 threads wrap about twice as fast as 2.
        this.parallelism = Math.max(8, Runtime.getRuntime().availableProcessors() * 4);
        this.pool = Executors.newFixedThreadPool(parallelism, r -> {
            Thread t = new Thread(r, "key-rewrap");
            t.setDaemon(true);
            return t;
        });
    }

    int parallelism() {
        return parallelism;
    }

    /** Applies {@code work} to every item on the workers; results in item order. */
    <T, R> List<R> parallel(List<T> items, Function<T, R> work) {
        List<Future<R>> futures = new ArrayList<>(items.size());
        for (T item : items) {
            futures.add(pool.submit(() -> work.apply(item)));
        }
        List<R> results = new ArrayList<>(items.size());
        for (Future<R> future : futures) {
            results.add(await(future));
        }
        return results;
    }

    /** The future's result; its failure rethrown as it was where it is unchecked. */
    static <T> T await(Future<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while a key job waited", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
