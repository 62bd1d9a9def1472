package health.carapace.audit.internal;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * How the audit trail is doing, read cheaply (index lookups, never a scan of the trail): events
 * not yet sealed and the oldest one's time, how far the Kafka relay is behind the sealed log, and
 * the last full verification. Read by the compliance checks and the metrics.
 */
@Component
class AuditHealth {

    /** The last row of {@code audit.verification}. */
    record LastVerification(Instant finishedAt, boolean ok, long eventsChecked, String firstProblem) {}

    /**
     * @param unsealed events committed above the highest sealed one (what the next seal takes)
     * @param oldestUnsealed when the oldest of them was recorded; null when none waits
     * @param relayLag sealed leaves the relay has not yet delivered; empty when no relay is configured
     */
    record Snapshot(long unsealed, Instant oldestUnsealed, Optional<Long> relayLag,
            Optional<LastVerification> lastVerification) {

        Duration sealLag(Instant now) {
            return oldestUnsealed == null ? Duration.ZERO : Duration.between(oldestUnsealed, now);
        }
    }

    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;
    private final boolean relayConfigured;

    AuditHealth(DataSource dataSource, @Value("${carapace.audit.kafka.bootstrap-servers:}") String kafka) {
        this.jdbc = JdbcClient.create(dataSource);
        this.transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        transactions.setReadOnly(true);
        this.relayConfigured = !kafka.isBlank();
    }

    boolean relayConfigured() {
        return relayConfigured;
    }

    Snapshot snapshot() {
        return transactions.execute(status -> read());
    }

    private Snapshot read() {
        // Two statements, not one with a sub-select: with the highest sealed id unknown when the
        // statement is planned, PostgreSQL estimates a third of the trail above it and scans the
        // whole table in parallel (seen at 1,000,000 events: the console's dashboard spent its time
        // there); with the id bound and planned for its value (CustomPlans), the primary key's range
        // holds only the unsealed tail.
        long highestSealed = jdbc.sql("select coalesce(max(event_id), 0), " + CustomPlans.FOR_THIS_TRANSACTION
                + " from audit.leaf").query((rs, n) -> rs.getLong(1)).single();
        var unsealed = jdbc.sql("select count(*), min(recorded_at) from audit.event where id > ?")
                .param(highestSealed)
                .query((rs, n) -> new Object[] {rs.getLong(1), rs.getTimestamp(2)})
                .single();
        Timestamp oldest = (Timestamp) unsealed[1];
        Optional<Long> relayLag = Optional.empty();
        if (relayConfigured) {
            relayLag = Optional.of(jdbc.sql("""
                    select coalesce((select max(leaf_index) + 1 from audit.leaf), 0)
                         - coalesce((select last_leaf + 1 from ops.relay_position where relay = 'kafka'), 0)""")
                    .query(Long.class).single());
        }
        Optional<LastVerification> last = jdbc.sql("""
                select finished_at, ok, events_checked, first_problem from audit.verification
                order by id desc limit 1""")
                .query((rs, n) -> new LastVerification(rs.getTimestamp(1).toInstant(), rs.getBoolean(2), rs.getLong(3),
                        rs.getString(4)))
                .optional();
        return new Snapshot((Long) unsealed[0], oldest == null ? null : oldest.toInstant(), relayLag, last);
    }
}
