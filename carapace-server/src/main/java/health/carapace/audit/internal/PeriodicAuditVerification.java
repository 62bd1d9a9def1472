package health.carapace.audit.internal;

import health.carapace.audit.AuditVerifier;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Verifies the whole audit trail at {@code carapace.audit.verify-interval} (first run one minute
 * after start, or sooner for a shorter interval), recording each result, so that the compliance
 * report and the metrics always have a recent one. Several nodes may each verify: it only reads.
 */
@Component
@ConditionalOnWebApplication
class PeriodicAuditVerification implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(PeriodicAuditVerification.class);

    private final AuditVerifier verifier;
    private final Duration interval;
    private ScheduledExecutorService scheduler;

    PeriodicAuditVerification(AuditVerifier verifier, @Value("${carapace.audit.verify-interval}") Duration interval) {
        this.verifier = verifier;
        this.interval = interval;
    }

    void verifyOnce() {
        try {
            AuditVerifier.Report report = verifier.verify();
            if (!report.ok()) {
                // The problem names a leaf index or a tree size, never an event's content.
                log.error("Audit verification FAILED: {}", report.firstProblem());
            }
        } catch (RuntimeException e) {
            log.error("Audit verification could not run; it is retried at the next interval", e);
        }
    }

    @Override
    public synchronized void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "audit-verification");
            t.setDaemon(true);
            return t;
        });
        long first = Math.min(interval.toMillis(), Duration.ofMinutes(1).toMillis());
        scheduler.scheduleWithFixedDelay(this::verifyOnce, first, interval.toMillis(), TimeUnit.MILLISECONDS);
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
