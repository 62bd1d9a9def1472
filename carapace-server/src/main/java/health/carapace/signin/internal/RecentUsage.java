package health.carapace.signin.internal;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.LoadingCache;
import com.github.benmanes.caffeine.cache.Ticker;
import health.carapace.audit.AuditQueries;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Each principal's usage over a window (the distinct kinds of successful action the audit trail
 * holds for it): the access review's expensive part, one scan of the principal's audit events.
 * A reading is reused for {@link #REUSED_FOR}, then read again in the background while the old one
 * is still shown, and is never used once older than {@link #AT_MOST}: past that it is read again
 * on the request, whatever the background is doing (ADR 0050). Only usage is kept here; the
 * permissions it is compared with (roles, the directory, care relationships) are read live by
 * the review.
 *
 * <p>The background reads run on one daemon thread of this cache's own ({@value #THREAD}) with a
 * bounded queue; when the queue is full the reading is made on the asking thread instead. Never
 * on {@code ForkJoinPool.commonPool()}: on two cores its parallelism is one, and other parts of
 * the server use it.
 */
@Component
class RecentUsage implements DisposableBean {

    /** How long a reading is reused before it is read again in the background. */
    static final Duration REUSED_FOR = Duration.ofSeconds(30);
    /** The oldest reading ever used: older, it is read again before the review is answered. */
    static final Duration AT_MOST = Duration.ofMinutes(2);
    /** The background reader's thread. */
    static final String THREAD = "access-review-usage";
    /**
     * Usage rows kept at most, over every principal (a reading is weighed by its rows; a row is a
     * kind of action with its patient, some 200 bytes): a few tens of megabytes at worst.
     */
    static final long MAX_ROWS = 100_000;
    private static final int QUEUE = 1_000;

    /** A principal's usage over {@code days} days before {@code readAt}, read at {@code readAt}. */
    record Reading(List<AuditQueries.Usage> usages, Instant readAt) {}

    private record Key(String principal, int days) {}

    private final BiFunction<String, Instant, List<AuditQueries.Usage>> source;
    private final Clock clock;
    private final ThreadPoolExecutor ownExecutor;
    private final LoadingCache<Key, Reading> cache;

    @Autowired
    RecentUsage(AuditQueries audit, Clock clock) {
        this(audit::usage, clock, Ticker.systemTicker(), null);
    }

    /**
     * @param source the audit trail's usage of a principal since an instant
     * @param ticker the cache's time (reuse and expiry); {@code clock} dates each reading
     * @param executor where background readings run; null for this cache's own thread
     */
    RecentUsage(BiFunction<String, Instant, List<AuditQueries.Usage>> source, Clock clock, Ticker ticker,
            Executor executor) {
        this.source = source;
        this.clock = clock;
        this.ownExecutor = executor == null ? newExecutor() : null;
        this.cache = Caffeine.newBuilder()
                .executor(executor == null ? ownExecutor : executor)
                .ticker(ticker)
                .maximumWeight(MAX_ROWS)
                .<Key, Reading>weigher((key, reading) -> Math.max(1, reading.usages().size()))
                .refreshAfterWrite(REUSED_FOR)
                // counted from when the reading was made, not from when it was stored: a slow reading
                // is no younger for having taken long
                .expireAfter(new Expiry<Key, Reading>() {
                    @Override
                    public long expireAfterCreate(Key key, Reading reading, long currentTime) {
                        return left(reading);
                    }

                    @Override
                    public long expireAfterUpdate(Key key, Reading reading, long currentTime, long currentDuration) {
                        return left(reading);
                    }

                    @Override
                    public long expireAfterRead(Key key, Reading reading, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                .build(this::read);
    }

    /**
     * The usage of {@code principal} over the {@code days} days before the reading's time, as read
     * at most {@link #AT_MOST} before {@code now}.
     */
    Reading usage(String principal, int days, Instant now) {
        Key key = new Key(principal, days);
        Reading reading = cache.get(key);
        // The expiry above keeps this from happening; checked here as well, so the bound holds even
        // if the clock and the cache's ticker part ways (a wall-clock step, a test's movable clock).
        if (reading.readAt().isBefore(now.minus(AT_MOST)) || reading.readAt().isAfter(now.plus(AT_MOST))) {
            reading = read(key);
            cache.put(key, reading);
        }
        return reading;
    }

    /** The usage over the {@code days} days before {@code now}, read from the audit trail on this call: no reuse. */
    Reading usageNow(String principal, int days, Instant now) {
        return read(new Key(principal, days), now);
    }

    private Reading read(Key key) {
        return read(key, clock.instant());
    }

    private Reading read(Key key, Instant at) {
        return new Reading(List.copyOf(source.apply(key.principal(), at.minus(Duration.ofDays(key.days())))), at);
    }

    private long left(Reading reading) {
        long age = Duration.between(reading.readAt(), clock.instant()).toNanos();
        return Math.max(0, AT_MOST.toNanos() - Math.max(0, age));
    }

    private static ThreadPoolExecutor newExecutor() {
        return new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(QUEUE), task -> {
            Thread thread = new Thread(task, THREAD);
            thread.setDaemon(true);
            return thread;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
    }

    @Override
    public void destroy() {
        if (ownExecutor != null) {
            ownExecutor.shutdownNow();
        }
    }
}
