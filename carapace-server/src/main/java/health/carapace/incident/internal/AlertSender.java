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
 * Delivers the alerts of one outbox queue (ADR 0036, ADR 0041), every {@code outbox.poll-interval}
 * and at once when an alert was just written. Any number of senders (nodes, threads) may run: each
 * alert is taken by lease, one at a time — claimed in a short transaction of its own ({@code FOR
 * UPDATE SKIP LOCKED}, {@code claimed_by}/{@code claimed_until} set and committed), delivered outside
 * any transaction, and its outcome recorded in a transaction of its own that clears the claim, only
 * while the claim is still this sender's. No transaction, lock or connection is held while a receiver
 * is talked to, and nothing that goes wrong with one alert touches another.
 *
 * <p>Each attempt is recorded ({@code incident.alert_attempt}: outcome and a code, never a message);
 * any exception of one alert — the receiver's refusal, an incident that cannot be read, a stored value
 * that no longer parses — is that alert's failed attempt, retried after {@code first-back-off},
 * doubling up to {@code max-back-off}; an alert still undelivered {@code give-up-after} after it was
 * written (or whose channel is no longer configured) is dead: logged, counted
 * ({@code carapace_incident_alerts_dead}) and failing the compliance check {@code incident.procedures}
 * until its incident is closed.
 *
 * <p>At least once: a sender that dies (or cannot record) between the receiver's answer and the record
 * leaves that one alert claimed; once its lease runs out a sender delivers it again, with the same
 * webhook {@code Idempotency-Key} and mail {@code X-Carapace-Alert}, so the receiver can drop the copy.
 */
final class AlertSender implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(AlertSender.class);
    /** How many alerts one pass delivers before it lets the poll interval pass (more are taken at once). */
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
    /** Whose claims are whose: a sender records only alerts it still holds. */
    private final UUID sender = UUID.randomUUID();
    private ScheduledExecutorService executor;
    /** Set when the node stops: the pass under way ends after the alert in hand, which it records. */
    private volatile boolean stopping;

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

    /** Delivers what is due and not held by another sender, up to a batch; returns how many alerts it tried. */
    int runOnce() {
        int tried = 0;
        while (tried < BATCH && !stopping) {
            Due due = claim();
            if (due == null) {
                break;
            }
            tried++;
            deliver(due);
        }
        return tried;
    }

    /**
     * Takes the next due alert no one holds, for one lease: one statement, so its own short transaction;
     * a row another sender is taking at this moment is skipped, not waited for.
     */
    private Due claim() {
        Instant now = clock.instant();
        return jdbc.sql("""
                update incident.alert_outbox set claimed_by = ?, claimed_until = ?
                where id = (select id from incident.alert_outbox
                        where queue = ? and delivered_at is null and dead_at is null and next_attempt_at <= ?
                          and (claimed_until is null or claimed_until <= ?)
                        order by next_attempt_at, id limit 1 for update skip locked)
                returning id, incident_id, kind, channel, contact, created_at, attempts""")
                .params(sender, Timestamp.from(now.plus(settings.outbox().lease())), queue, Timestamp.from(now),
                        Timestamp.from(now))
                .query((rs, n) -> new Due(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class), rs.getString(3),
                        rs.getString(4), Contact.of(rs.getString(5)), rs.getTimestamp(6).toInstant(), rs.getInt(7)))
                .optional().orElse(null);
    }

    /** Sends one claimed alert, then records the outcome; nothing here escapes to the next alert. */
    private void deliver(Due due) {
        // the escalation contact's copy of an alert is another delivery: its own key
        String key = due.incident() + ":" + due.kind()
                + (due.contact() == Contact.ESCALATION && !due.kind().equals("escalated") ? ":escalation" : "");
        String failure;
        try {
            // inside the attempt: an incident that cannot be read (gone, or a stored value that no longer
            // parses) is this alert's failed attempt, with back-off and in time dead (review of ADR 0036)
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
        try {
            String outcome = failure;
            Boolean recorded = transactions.execute(status -> record(due, outcome));
            if (!Boolean.TRUE.equals(recorded)) {
                log.warn("An incident alert's lease ran out before its outcome was recorded (incident {}, {} by {});"
                        + " another sender may deliver it again", due.incident(), due.kind(), due.channel());
            }
        } catch (RuntimeException e) {
            // Not recorded: the alert stays claimed until its lease runs out, then it is sent again (same
            // key). Every other alert keeps its own record (review of ADR 0036, finding 15).
            log.error("The outcome of an incident alert could not be recorded (incident {}, {} by {}: {}); it is"
                    + " delivered again after its lease", due.incident(), due.kind(), due.channel(),
                    e.getClass().getSimpleName());
        }
    }

    /** Records the attempt and releases the claim; false when the claim is no longer this sender's. */
    private boolean record(Due due, String failure) {
        Instant now = clock.instant();
        int attempts = due.attempts() + 1;
        String release = ", attempts = ?, claimed_by = null, claimed_until = null where id = ? and claimed_by = ?";
        if (failure == null) {
            if (jdbc.sql("update incident.alert_outbox set delivered_at = ?" + release)
                    .params(Timestamp.from(now), attempts, due.id(), sender).update() == 0) {
                return false;
            }
            attempt(due.id(), now, "delivered", null);
            store.alerted(due.incident(), label(due));
        } else if (failure.equals(NOT_CONFIGURED) || !now.isBefore(due.createdAt().plus(settings.outbox().giveUpAfter()))) {
            if (jdbc.sql("update incident.alert_outbox set dead_at = ?" + release)
                    .params(Timestamp.from(now), attempts, due.id(), sender).update() == 0) {
                return false;
            }
            attempt(due.id(), now, "dead", failure);
            log.error("An incident alert could not be delivered and is dead-lettered (incident {}, {} by {} to the {}"
                    + " contact, {} attempts, last: {})", due.incident(), due.kind(), due.channel(),
                    due.contact().code(), attempts, failure);
        } else {
            if (jdbc.sql("update incident.alert_outbox set next_attempt_at = ?" + release)
                    .params(Timestamp.from(now.plus(backOff(attempts))), attempts, due.id(), sender).update() == 0) {
                return false;
            }
            attempt(due.id(), now, "failed", failure);
            if (attempts == 1) {
                log.warn("An incident alert could not be delivered yet ({} by {}: {}); retried with back-off",
                        due.kind(), due.channel(), failure);
            }
        }
        return true;
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
        stopping = false;
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
            // Let the alert in hand be delivered and recorded rather than interrupting it: an alert left
            // claimed waits for its lease (ADR 0041). Each delivery is bounded by its timeouts.
            stopping = true;
            executor.shutdown();
            try {
                if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
                    executor.shutdownNow();
                    executor.awaitTermination(15, TimeUnit.SECONDS);
                }
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
