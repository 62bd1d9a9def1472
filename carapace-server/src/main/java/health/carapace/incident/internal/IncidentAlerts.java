package health.carapace.incident.internal;

import java.net.URI;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Alerts the compliance officer about every incident the detectors open (webhook and e-mail, on a
 * thread of their own so the detectors never wait on a mail server), and escalates to the second
 * contact when an incident is still open, unacknowledged, {@code escalate-after} after detection.
 * The first alert that reaches anyone stamps the incident (the 60-minute alert clock stops).
 */
final class IncidentAlerts implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(IncidentAlerts.class);

    private final AlertSettings settings;
    private final IncidentStore store;
    private final WebhookAlerts webhooks;
    private final MailAlerts mail;
    private final String adminUrl;
    private ScheduledExecutorService executor;

    IncidentAlerts(AlertSettings settings, IncidentStore store, WebhookAlerts webhooks, MailAlerts mail,
            String adminUrl) {
        this.settings = settings;
        this.store = store;
        this.webhooks = webhooks;
        this.mail = mail;
        this.adminUrl = adminUrl;
    }

    /** Queues the alerts for incidents just opened. */
    void opened(List<IncidentStore.Opened> opened) {
        ScheduledExecutorService running = executor;
        if (running == null) {
            return;
        }
        for (IncidentStore.Opened o : opened) {
            running.execute(() -> alert(o.id(), "opened", settings.webhook(), settings.to()));
        }
    }

    void alert(UUID id, String kind, URI webhook, List<String> recipients) {
        var incident = store.find(id).orElse(null);
        if (incident == null) {
            return;
        }
        Alert alert = new Alert(kind, incident, adminUrl);
        if (webhook != null && webhooks != null) {
            try {
                if (webhooks.send(webhook, alert)) {
                    store.alerted(id, kind.equals("opened") ? "webhook" : "escalation-webhook");
                } else {
                    log.error("An incident alert could not be delivered to the webhook after every retry");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (mail != null && !recipients.isEmpty()) {
            try {
                mail.send(alert, recipients);
                store.alerted(id, kind.equals("opened") ? "email" : "escalation-email");
            } catch (Exception e) {
                // the mail library's message may name addresses: the class is enough to act on
                log.error("An incident alert e-mail could not be sent ({})", e.getClass().getSimpleName());
            }
        }
    }

    void escalate() {
        try {
            for (UUID id : store.claimEscalations(settings.escalateAfter())) {
                alert(id, "escalated", settings.escalationWebhook(), settings.escalateTo());
            }
        } catch (RuntimeException e) {
            log.error("Escalating unacknowledged incidents failed; retried at the next tick", e);
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
