package health.carapace.crypto.internal;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * The background side of key rotation: at every check it starts a KEK rotation when the active
 * KEK is older than {@code carapace.keys.kek-max-age}, then runs unfinished jobs (its own, the
 * CLI's, or ones a crashed node left behind) if no other node is running them. Usage counters
 * are flushed, and the key metrics refreshed, at the refresh interval. Failures are logged and retried at the next check.
 */
final class KeyRotationScheduler implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(KeyRotationScheduler.class);

    private final KeyJobs jobs;
    private final UsageCounters counters;
    private final KeyMetrics metrics;
    private final StateKeysets stateKeys;
    private final Duration checkInterval;
    private final Duration flushInterval;
    private ScheduledExecutorService scheduler;

    KeyRotationScheduler(KeyJobs jobs, UsageCounters counters, KeyMetrics metrics, StateKeysets stateKeys,
            Duration checkInterval, Duration flushInterval) {
        this.jobs = jobs;
        this.counters = counters;
        this.metrics = metrics;
        this.stateKeys = stateKeys;
        this.checkInterval = checkInterval;
        this.flushInterval = flushInterval;
    }

    void check() {
        try {
            jobs.runScheduled();
        } catch (RuntimeException e) {
            log.error("A key rotation check failed; it is retried at the next check", e);
        }
        // state keys: a new one when due, replaced ones destroyed once their values have expired
        stateKeys.maintain();
    }

    private void flush() {
        try {
            counters.flush();
            metrics.refresh();
        } catch (RuntimeException e) {
            log.warn("Key usage counters could not be saved; they are kept for the next flush", e);
        }
    }

    @Override
    public synchronized void start() {
        // Two threads: a long job must not hold back the counters.
        scheduler = Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, "key-rotation");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(this::check, checkInterval.toMillis(), checkInterval.toMillis(),
                TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(this::flush, flushInterval.toMillis(), flushInterval.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void stop() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            try {
                scheduler.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            scheduler = null;
            // Keep the counts; the metrics of a stopping node are nobody's concern (and reading
            // them could wait on a database that is going away too).
            try {
                counters.flush();
            } catch (RuntimeException e) {
                log.warn("Key usage counters could not be saved at shutdown", e);
            }
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return scheduler != null;
    }
}
