package health.carapace.signin.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/** Recomputes and stores the access review daily (first two minutes after start), off the request path. */
@Component
@ConditionalOnWebApplication
class AccessReviewRefresh implements SmartLifecycle {

    static final Duration CADENCE = Duration.ofHours(24);
    private static final Logger log = LoggerFactory.getLogger(AccessReviewRefresh.class);

    private final StoredAccessReviews reviews;
    private ScheduledExecutorService scheduler;

    AccessReviewRefresh(StoredAccessReviews reviews) {
        this.reviews = reviews;
    }

    @Override
    public synchronized void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "access-review");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                reviews.computeAndStore(Instant.now());
            } catch (RuntimeException e) {
                log.error("The periodic access review failed; retried in {}", CADENCE, e);
            }
        }, Duration.ofMinutes(2).toMillis(), CADENCE.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void stop() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            scheduler = null;
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return scheduler != null;
    }
}
