package health.carapace.audit.internal;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Runs the sealer at its cadence, then witnesses and publishes each new tree head, then lets the
 * Kafka relay catch up. A failure is logged and retried at the next tick; reads are not affected
 * (they wait only for their events, not for sealing).
 */
final class AuditBackground implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(AuditBackground.class);

    private final TreeSealer sealer;
    private final WitnessDirectory witness;
    private final KafkaRelay relay;
    private final String treeHeadTopic;
    private final Duration interval;
    private ScheduledExecutorService scheduler;

    AuditBackground(TreeSealer sealer, WitnessDirectory witness, KafkaRelay relay, String treeHeadTopic,
            Duration interval) {
        this.sealer = sealer;
        this.witness = witness;
        this.relay = relay;
        this.treeHeadTopic = treeHeadTopic;
        this.interval = interval;
    }

    void tick() {
        try {
            sealer.sealOnce().ifPresent(sealed -> {
                witness.append(sealed.head());
                if (relay != null) {
                    relay.publishTreeHead(treeHeadTopic, WitnessDirectory.toJson(sealed.head()));
                }
            });
        } catch (RuntimeException e) {
            log.error("Sealing the audit log failed; it is retried at the next tick", e);
        }
        if (relay != null) {
            try {
                while (relay.relayOnce() > 0) {
                    // drain what is sealed
                }
            } catch (RuntimeException e) {
                log.warn("The Kafka relay is behind; it resumes from its last acknowledged position", e);
            }
        }
    }

    @Override
    public synchronized void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "audit-sealer");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(this::tick, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void stop() {
        if (scheduler != null) {
            scheduler.shutdown();
            try {
                scheduler.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            scheduler = null;
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return scheduler != null;
    }
}
