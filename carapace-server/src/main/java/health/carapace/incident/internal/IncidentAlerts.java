package health.carapace.incident.internal;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * What decides that someone must be told, on a thread of its own: incidents just opened (their
 * alerts were queued in the detectors' transaction: the sender is woken), incidents still open,
 * unacknowledged, {@code escalate-after} after detection (escalated once to the second contact), and
 * clocks that ran out unmet ({@link OverdueClocks}). Every alert goes through the durable outbox and
 * {@link AlertSender}; the first one delivered stamps the incident (the 60-minute alert clock stops).
 */
final class IncidentAlerts implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(IncidentAlerts.class);

    private final AlertSettings settings;
    private final IncidentStore store;
    private final OverdueClocks overdue;
    private final AlertSender sender;
    private final Consumer<List<String>> overdueRaised;
    private ScheduledExecutorService executor;

    IncidentAlerts(AlertSettings settings, IncidentStore store, OverdueClocks overdue, AlertSender sender,
            Consumer<List<String>> overdueRaised) {
        this.settings = settings;
        this.store = store;
        this.overdue = overdue;
        this.sender = sender;
        this.overdueRaised = overdueRaised;
    }

    /** Incidents were just opened and their alerts committed: deliver now rather than at the next poll. */
    void opened(List<IncidentStore.Opened> opened) {
        if (!opened.isEmpty()) {
            sender.nudge();
        }
    }

    void escalate() {
        try {
            if (!store.claimEscalations(settings.escalateAfter()).isEmpty()) {
                sender.nudge();
            }
        } catch (RuntimeException e) {
            log.error("Escalating unacknowledged incidents failed ({}); retried at the next tick",
                    e.getClass().getSimpleName());
        }
    }

    void checkOverdue() {
        try {
            List<String> raised = overdue.check();
            if (!raised.isEmpty()) {
                overdueRaised.accept(raised);
                sender.nudge();
            }
        } catch (RuntimeException e) {
            log.error("Looking for overdue incident clocks failed ({}); retried at the next tick",
                    e.getClass().getSimpleName());
        }
    }

    @Override
    public synchronized void start() {
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "incident-alerts");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(1, Math.min(30, settings.escalateAfter().toSeconds() / 4));
        executor.scheduleWithFixedDelay(this::escalate, every, every, TimeUnit.SECONDS);
        long overdueEvery = settings.outbox().overdueCheckInterval().toMillis();
        executor.scheduleWithFixedDelay(this::checkOverdue, overdueEvery, overdueEvery, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void stop() {
        if (executor != null) {
            executor.shutdownNow();
            executor = null;
        }
    }

    @Override
    public boolean isRunning() {
        return executor != null;
    }
}
