package health.carapace.bench;

import java.net.http.HttpTimeoutException;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * What happened to the requests of one operation in one phase, recorded from many threads
 * without locks: a latency histogram (microseconds, 3 significant digits), a count per HTTP
 * status, and a count per kind of transport failure (no response at all).
 *
 * <p>Every response is in the histogram, errors too: a fast 503 is still a response the client
 * waited for. Errors are never dropped; they are counted by status and shown beside the latencies.
 */
final class OperationStats {

    private static final int STATUS_SLOTS = 1000;

    private final Operation operation;
    private final Histogram latencyMicros;
    private final AtomicLongArray responsesByStatus = new AtomicLongArray(STATUS_SLOTS);
    private final Map<String, LongAdder> transportErrors = new ConcurrentHashMap<>();

    OperationStats(Operation operation) {
        this.operation = operation;
        // Auto-resizing: a pathological 10-minute stall is recorded, not thrown away.
        this.latencyMicros = new ConcurrentHistogram(3);
    }

    Operation operation() {
        return operation;
    }

    void recordResponse(int status, long latencyNanos) {
        latencyMicros.recordValue(Math.max(1, TimeUnit.NANOSECONDS.toMicros(latencyNanos)));
        responsesByStatus.incrementAndGet(status >= 0 && status < STATUS_SLOTS ? status : 0);
    }

    void recordTransportError(Throwable failure) {
        transportErrors.computeIfAbsent(describe(failure), k -> new LongAdder()).increment();
    }

    /** A stable, short name for a failure: its exception class, unwrapped from the future's envelope. */
    static String describe(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof HttpTimeoutException && !(cause instanceof java.net.http.HttpConnectTimeoutException)) {
            return "timeout";
        }
        return cause.getClass().getSimpleName();
    }

    /** A consistent copy of what has been recorded, for the report. */
    Snapshot snapshot() {
        SortedMap<Integer, Long> statuses = new TreeMap<>();
        for (int status = 0; status < STATUS_SLOTS; status++) {
            long count = responsesByStatus.get(status);
            if (count > 0) {
                statuses.put(status, count);
            }
        }
        SortedMap<String, Long> failures = new TreeMap<>();
        transportErrors.forEach((kind, count) -> failures.put(kind, count.sum()));
        return new Snapshot(operation, latencyMicros.copy(), statuses, failures);
    }

    /** An immutable view of one operation's stats; snapshots of several operations can be merged. */
    record Snapshot(Operation operation, Histogram latencyMicros, SortedMap<Integer, Long> responsesByStatus,
            SortedMap<String, Long> transportErrors) {

        long responses() {
            return responsesByStatus.values().stream().mapToLong(Long::longValue).sum();
        }

        long successes() {
            return responsesByStatus.entrySet().stream().filter(e -> isSuccess(e.getKey()))
                    .mapToLong(Map.Entry::getValue).sum();
        }

        /** Every response outside 2xx, by status: a redirect is as wrong as a 500 for these requests. */
        SortedMap<Integer, Long> errorsByStatus() {
            SortedMap<Integer, Long> errors = new TreeMap<>();
            responsesByStatus.forEach((status, count) -> {
                if (!isSuccess(status)) {
                    errors.put(status, count);
                }
            });
            return errors;
        }

        long transportErrorCount() {
            return transportErrors.values().stream().mapToLong(Long::longValue).sum();
        }

        long errors() {
            return responses() - successes() + transportErrorCount();
        }

        static Snapshot merge(Operation operation, Iterable<Snapshot> parts) {
            Histogram latencies = new Histogram(3);
            SortedMap<Integer, Long> statuses = new TreeMap<>();
            SortedMap<String, Long> failures = new TreeMap<>();
            for (Snapshot part : parts) {
                latencies.add(part.latencyMicros());
                part.responsesByStatus().forEach((k, v) -> statuses.merge(k, v, Long::sum));
                part.transportErrors().forEach((k, v) -> failures.merge(k, v, Long::sum));
            }
            return new Snapshot(operation, latencies, statuses, failures);
        }

        private static boolean isSuccess(int status) {
            return status >= 200 && status < 300;
        }
    }
}
