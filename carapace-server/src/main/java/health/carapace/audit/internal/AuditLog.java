package health.carapace.audit.internal;

import health.carapace.audit.AuditEvent;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.jdbc.core.BatchPreparedStatementSetter;
import org.springframework.jdbc.core.JdbcTemplate;

/** Inserts events into {@code audit.event}, the append-only table the Merkle tree is built over. */
final class AuditLog {

    private static final String INSERT = "insert into audit.event (event_id, recorded_at, actor, action, outcome, "
            + "patient, body) values (?, ?, ?, ?, ?, ?, ?)";

    private final JdbcTemplate jdbc;

    AuditLog(DataSource dataSource) {
        this.jdbc = new JdbcTemplate(dataSource);
    }

    /**
     * Inserts in the caller's transaction (JdbcTemplate joins it; both callers run in one). The
     * transaction takes its transaction id before the events draw theirs: the sealer relies on an
     * id drawn before its snapshot belonging to a transaction that snapshot counts as running or
     * ended ({@link TreeSealer}).
     */
    void insert(List<AuditEvent> events) {
        jdbc.queryForObject("select pg_current_xact_id()::text", String.class);
        jdbc.batchUpdate(INSERT, new BatchPreparedStatementSetter() {
            @Override
            public void setValues(PreparedStatement ps, int i) throws SQLException {
                AuditEvent e = events.get(i);
                ps.setObject(1, e.id());
                ps.setTimestamp(2, Timestamp.from(e.timestamp()));
                ps.setString(3, e.user());
                ps.setString(4, e.action().code());
                ps.setString(5, e.success() ? "success" : "failure");
                ps.setString(6, e.patient());
                ps.setBytes(7, EventCodec.encode(e));
            }

            @Override
            public int getBatchSize() {
                return events.size();
            }
        });
    }
}
