package health.carapace.incident.internal;

import health.carapace.incident.Breach;
import health.carapace.incident.Clocks;
import health.carapace.incident.IncidentState;
import health.carapace.incident.internal.AlertSettings.Contact;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Raises an alert when one of an incident's clocks runs out unmet (docs/INCIDENTS.md "Clocks"):
 * isolate, alert, plan, and, once a breach is recorded, individuals, HHS and media. Each clock of
 * each incident is raised once across nodes and restarts ({@code incident.clock_alert} decides:
 * the first insert wins), in the transaction that queues its alerts. The alert goes to the
 * compliance officer, and also to the second contact when the incident is still unacknowledged
 * {@code escalate-after} after detection (the escalation rule). A clock that is met (contained,
 * alerted or acknowledged, assessed) no longer runs; the HIPAA clocks run until the incident is
 * closed. Drill incidents have no clocks that matter and are left out.
 *
 * <p>A deadline that passed longer than {@code overdue.catch-up} before anyone saw it (the server
 * was down for days, or this release meets old incidents) is recorded and shown, not mailed.
 */
final class OverdueClocks {

    /** One incident's clocks now run out and not met, each with its deadline. */
    record Running(UUID id, IncidentState state, Instant detectedAt, Map<String, Instant> overdue) {}

    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;
    private final IncidentStore store;
    private final AlertOutbox outbox;
    private final Clock clock;
    private final Duration catchUp;
    private final Duration escalateAfter;

    OverdueClocks(DataSource dataSource, TransactionTemplate transactions, IncidentStore store, AlertOutbox outbox,
            Clock clock, Duration catchUp, Duration escalateAfter) {
        this.jdbc = JdbcClient.create(dataSource);
        this.transactions = transactions;
        this.store = store;
        this.outbox = outbox;
        this.clock = clock;
        this.catchUp = catchUp;
        this.escalateAfter = escalateAfter;
    }

    /** The clocks run out and not met at {@code now}, per incident not closed (drills left out). */
    static List<Running> overdue(JdbcClient jdbc, Instant now) {
        List<Running> running = new ArrayList<>();
        jdbc.sql("""
                select id, state, detected_at, contained_at, alerted_at, acknowledged_at, risk_assessed_at, breach
                from incident.incident where closed_at is null and not drill""")
                .query(rs -> {
                    Instant detected = rs.getTimestamp("detected_at").toInstant();
                    Instant contained = instant(rs.getTimestamp("contained_at"));
                    Instant alerted = instant(rs.getTimestamp("alerted_at"));
                    Instant acknowledged = instant(rs.getTimestamp("acknowledged_at"));
                    Instant assessed = instant(rs.getTimestamp("risk_assessed_at"));
                    String breachJson = rs.getString("breach");
                    Breach breach = breachJson == null ? null : IncidentStore.breach(breachJson);
                    IncidentState state = IncidentState.of(rs.getString("state"));
                    // met clocks are passed as not run (null): only the ones still running can be overdue here
                    Clocks clocks = IncidentStore.clocks(now, detected, null, null, null, breach, state);
                    Map<String, Instant> due = new LinkedHashMap<>();
                    for (String name : clocks.overdue()) {
                        boolean met = switch (name) {
                            case "isolate" -> contained != null;
                            case "alert" -> alerted != null || acknowledged != null;
                            case "plan" -> assessed != null;
                            default -> false;
                        };
                        if (!met) {
                            due.put(name, deadline(clocks, name));
                        }
                    }
                    if (!due.isEmpty()) {
                        running.add(new Running(rs.getObject("id", UUID.class), state, detected, due));
                    }
                });
        return running;
    }

    /**
     * Raises every clock that ran out since it was last looked at, once; returns the clocks whose
     * alerts were queued (one entry per incident and clock).
     */
    List<String> check() {
        Instant now = clock.instant();
        List<Running> running = overdue(jdbc, now);
        if (running.isEmpty()) {
            return List.of();
        }
        Set<String> raised = new HashSet<>(jdbc.sql("""
                select incident_id::text || '/' || clock from incident.clock_alert
                where incident_id in (select id from incident.incident where closed_at is null and not drill)""")
                .query(String.class).list());
        List<String> alerted = new ArrayList<>();
        for (Running incident : running) {
            for (Map.Entry<String, Instant> clockDue : incident.overdue().entrySet()) {
                String name = clockDue.getKey();
                if (raised.contains(incident.id() + "/" + name)) {
                    continue;
                }
                boolean fresh = !clockDue.getValue().isBefore(now.minus(catchUp));
                Boolean queued = transactions.execute(status -> {
                    int inserted = jdbc.sql("""
                            insert into incident.clock_alert (incident_id, clock, due_at, raised_at, alerted)
                            values (?, ?, ?, ?, ?) on conflict do nothing""")
                            .params(incident.id(), name, Timestamp.from(clockDue.getValue()), Timestamp.from(now), fresh)
                            .update();
                    if (inserted == 0) {
                        return false; // another node raised it first
                    }
                    store.timeline(incident.id(), now, AuditedAccess.SELF, "overdue", fresh ? name : name + ":late");
                    if (!fresh) {
                        return false;
                    }
                    outbox.enqueue(incident.id(), Alert.OVERDUE + name, Contact.PRIMARY, now);
                    if (incident.state() == IncidentState.OPEN && !now.isBefore(incident.detectedAt().plus(escalateAfter))) {
                        outbox.enqueue(incident.id(), Alert.OVERDUE + name, Contact.ESCALATION, now);
                    }
                    return true;
                });
                if (Boolean.TRUE.equals(queued)) {
                    alerted.add(name);
                }
            }
        }
        return alerted;
    }

    private static Instant deadline(Clocks clocks, String name) {
        return switch (name) {
            case "isolate" -> clocks.isolateBy();
            case "alert" -> clocks.alertBy();
            case "plan" -> clocks.planBy();
            case "individuals" -> clocks.individualsBy();
            case "hhs" -> clocks.hhsBy();
            case "media" -> clocks.mediaBy();
            default -> throw new IllegalArgumentException("no such clock");
        };
    }

    private static Instant instant(Timestamp timestamp) {
        return timestamp == null ? null : timestamp.toInstant();
    }
}
