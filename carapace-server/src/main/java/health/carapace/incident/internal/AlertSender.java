package health.carapace.incident.internal;

import health.carapace.incident.Incident;
import health.carapace.incident.internal.AlertSettings.Contact;
import java.net.URI;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Delivers the alerts of one outbox queue (ADR 0036): one sender at a time across nodes (each pass
 * takes a transaction-scoped advisory lock and skips when another node holds it), every
 * {@code outbox.poll-interval} and at once when an alert was just written. Each attempt is recorded
 * ({@code incident.alert_attempt}: outcome and a code, never a message); a failed one is retried
 * after {@code first-back-off}, doubling up to {@code max-back-off}; an alert still undelivered
 * {@code give-up-after} after it was written (or whose channel is no longer configured) is dead:
 * logged, counted ({@code carapace_incident_alerts_dead}) and failing the compliance check
 * {@code incident.procedures} until its incident is closed.
 *
 * <p>At least once: a node that dies between the receiver's answer and the commit sends that alert
 * again; the webhook's {@code Idempotency-Key} and the mail's {@code X-Carapace-Alert} stay the same
 * so the receiver can drop the copy.
 */
final class AlertSender implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(AlertSender.class);
    /** The advisory lock's class (ADR 0036); the queue's hash is the object. */
    private static final int LOCK_CLASS = 36;
    private static final int BATCH = 20;
    private static final String NOT_CONFIGURED = "channel-not-configured";

    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;
    private final AlertSettings settings;
    private final IncidentStore store;
    private final WebhookAlerts webhooks;
    private final MailAlerts mail;
    private final String adminUrl;
    private final String queue;
    private final Clock clock;
    private ScheduledExecutorService executor;

    AlertSender(DataSource dataSource, TransactionTemplate transactions, AlertSettings settings, IncidentStore store,
            WebhookAlerts webhooks, MailAlerts mail, String adminUrl, String queue, Clock clock) {
        this.jdbc = JdbcClient.create(dataSource);
        this.transactions = transactions;
        this.settings = settings;
        this.store = store;
        this.webhooks = webhooks;
        this.mail = mail;
        this.adminUrl = adminUrl;
        this.queue = queue;
        this.clock = clock;
    }

    private record Due(UUID id, UUID incident, String kind, String channel, Contact contact, Instant createdAt,
            int attempts) {}

    /** Delivers what is due, if no other node is; returns how many alerts it tried. */
    int runOnce() {
        Integer tried = transactions.execute(status -> {
            boolean alone = jdbc.sql("select pg_try_advisory_xact_lock(?, hashtext(?))").params(LOCK_CLASS, queue)
                    .query(Boolean.class).single();
            if (!alone) {
                return 0;
            }
            List<Due> due = jdbc.sql("""
                    select id, incident_id, kind, channel, contact, created_at, attempts from incident.alert_outbox
                    where queue = ? and delivered_at is null and dead_at is null and next_attempt_at <= ?
                    order by next_attempt_at, id limit ? for update""")
                    .params(queue, Timestamp.from(clock.instant()), BATCH)
                    .query((rs, n) -> new Due(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class), rs.getString(3),
                            rs.getString(4), Contact.of(rs.getString(5)), rs.getTimestamp(6).toInstant(), rs.getInt(7)))
                    .list();
            for (Due alert : due) {
                deliver(alert);
            }
            return due.size();
        });
        return tried == null ? 0 : tried;
    }

    private void deliver(Due due) {
        // the escalation contact's copy of an alert is another delivery: its own key
        String key = due.incident() + ":" + due.kind()
                + (due.contact() == Contact.ESCALATION && !due.kind().equals("escalated") ? ":escalation" : "");
        String failure;
        try {
            // inside the attempt: an incident that cannot be read (gone, or a stored value that no longer
            // parses) is this alert's failed attempt, with back-off and in time dead, never an exception
            // that rolls back what the batch has already delivered and recorded (review of ADR 0036)
            Incident incident = store.find(due.incident()).orElseThrow(IncidentStore::notFound);
            Alert alert = new Alert(due.kind(), incident, adminUrl, key);
            failure = due.channel().equals("webhook") ? webhook(due.contact(), alert) : mail(due.contact(), alert);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = "interrupted";
        } catch (Exception e) {
            // the class says what went wrong; a message may quote the server or name an address
            failure = e.getClass().getSimpleName();
        }
        Instant now = clock.instant();
        int attempts = due.attempts() + 1;
        if (failure == null) {
            jdbc.sql("update incident.alert_outbox set delivered_at = ?, attempts = ? where id = ?")
                    .params(Timestamp.from(now), attempts, due.id()).update();
            attempt(due.id(), now, "delivered", null);
            store.alerted(due.incident(), label(due));
        } else if (failure.equals(NOT_CONFIGURED) || !now.isBefore(due.createdAt().plus(settings.outbox().giveUpAfter()))) {
            jdbc.sql("update incident.alert_outbox set dead_at = ?, attempts = ? where id = ?")
                    .params(Timestamp.from(now), attempts, due.id()).update();
            attempt(due.id(), now, "dead", failure);
            log.error("An incident alert could not be delivered and is dead-lettered (incident {}, {} by {} to the {}"
                    + " contact, {} attempts, last: {})", due.incident(), due.kind(), due.channel(),
                    due.contact().code(), attempts, failure);
        } else {
            jdbc.sql("update incident.alert_outbox set next_attempt_at = ?, attempts = ? where id = ?")
                    .params(Timestamp.from(now.plus(backOff(attempts))), attempts, due.id()).update();
            attempt(due.id(), now, "failed", failure);
            if (attempts == 1) {
                log.warn("An incident alert could not be delivered yet ({} by {}: {}); retried with back-off",
                        due.kind(), due.channel(), failure);
            }
        }
    }

    private String webhook(Contact contact, Alert alert) throws Exception {
        URI url = settings.webhook(contact);
        if (url == null || webhooks == null) {
            return NOT_CONFIGURED;
        }
        return webhooks.deliverOnce(url, alert);
    }

    private String mail(Contact contact, Alert alert) throws Exception {
        List<String> recipients = settings.recipients(contact);
        if (recipients.isEmpty() || mail == null) {
            return NOT_CONFIGURED;
        }
        mail.send(alert, recipients);
        return null;
    }

    /** The wait before attempt {@code attempts + 1}: first back-off, doubling, capped. */
    Duration backOff(int attempts) {
        Duration first = settings.outbox().firstBackOff();
        Duration max = settings.outbox().maxBackOff();
        Duration wait = first.multipliedBy(1L << Math.min(attempts - 1, 30));
        return wait.compareTo(max) > 0 || wait.isNegative() ? max : wait;
    }

    private static String label(Due due) {
        return switch (due.kind()) {
            case "opened" -> due.channel();
            case "escalated" -> "escalation-" + due.channel();
            default -> due.kind() + "/" + due.channel();
        };
    }

    private void attempt(UUID alert, Instant at, String outcome, String detail) {
        jdbc.sql("insert into incident.alert_attempt (alert_id, at, outcome, detail) values (?, ?, ?, ?)")
                .params(alert, Timestamp.from(at), outcome, detail).update();
    }

    /** Delivers at once what was just written (the next poll would, later). */
    synchronized void nudge() {
        if (executor != null) {
            try {
                executor.execute(this::tick);
            } catch (RejectedExecutionException stopping) {
                // stopping: the next node or start delivers it
            }
        }
    }

    private void tick() {
        try {
            while (runOnce() >= BATCH) {
                // more is due: keep going before waiting
            }
        } catch (RuntimeException e) {
            log.error("Delivering incident alerts failed ({}); retried at the next tick", e.getClass().getSimpleName());
        }
    }

    @Override
    public synchronized void start() {
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "incident-alert-sender");
            t.setDaemon(true);
            return t;
        });
        long every = settings.outbox().poll().toMillis();
        executor.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void stop() {
        if (executor != null) {
            executor.shutdownNow();
            try {
                executor.awaitTermination(15, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            executor = null;
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return executor != null;
    }
}
