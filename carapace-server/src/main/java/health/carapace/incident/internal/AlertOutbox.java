package health.carapace.incident.internal;

import health.carapace.incident.internal.AlertSettings.Contact;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Writes alerts into {@code incident.alert_outbox}, in the caller's transaction: an incident opened,
 * escalated or overdue and its alerts commit together or not at all, and {@link AlertSender}
 * delivers them afterwards, surviving a mail server's outage and a restart (ADR 0036). One row per
 * configured channel of the contact; a contact with no channel configured gets none (the metrics
 * and the incident still show its clocks).
 */
final class AlertOutbox {

    /** The queue the server's own sender delivers. */
    static final String QUEUE = "alerts";

    private final JdbcClient jdbc;
    private final AlertSettings settings;
    private final String queue;

    AlertOutbox(DataSource dataSource, AlertSettings settings, String queue) {
        this.jdbc = JdbcClient.create(dataSource);
        this.settings = settings;
        this.queue = queue;
    }

    String queue() {
        return queue;
    }

    /** Queues {@code kind} about {@code incident} for {@code contact}; returns how many deliveries were queued. */
    int enqueue(UUID incident, String kind, Contact contact, Instant now) {
        int queued = 0;
        if (!settings.recipients(contact).isEmpty()) {
            queued += insert(incident, kind, "email", contact, now);
        }
        if (settings.webhook(contact) != null) {
            queued += insert(incident, kind, "webhook", contact, now);
        }
        return queued;
    }

    private int insert(UUID incident, String kind, String channel, Contact contact, Instant now) {
        return jdbc.sql("""
                insert into incident.alert_outbox (id, queue, incident_id, kind, channel, contact, created_at,
                    next_attempt_at)
                values (?, ?, ?, ?, ?, ?, ?, ?)""")
                .params(UUID.randomUUID(), queue, incident, kind, channel, contact.code(), Timestamp.from(now),
                        Timestamp.from(now))
                .update();
    }
}
