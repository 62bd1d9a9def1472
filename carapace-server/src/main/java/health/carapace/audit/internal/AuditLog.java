package health.carapace.audit.internal;

import health.carapace.audit.AuditEvent;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.jdbc.core.BatchPreparedStatementSetter;
import org.springframework.jdbc.core.JdbcTemplate;

/** Inserts events into {@code audit.event}, the append-only table the Merkle tree is built over. */
final class AuditLog {

    private static final String INSERT = "insert into audit.event (event_id, recorded_at, actor, action, outcome, "
            + "patient, body) values (?, ?, ?, ?, ?, ?, ?)";

    private final JdbcTemplate jdbc;

    /** An event with the bytes that are stored and hashed for it, encoded once by whoever records it. */
    record Encoded(AuditEvent event, byte[] body) {
    }

    static List<Encoded> encode(List<AuditEvent> events) {
        List<Encoded> encoded = new ArrayList<>(events.size());
        for (AuditEvent event : events) {
            encoded.add(new Encoded(event, EventCodec.encode(event)));
        }
        return encoded;
    }

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
        insertEncoded(encode(events));
    }

    /** As {@link #insert}, for events already encoded (the group commit encodes on the request threads). */
    void insertEncoded(List<Encoded> events) {
        if (events.size() == 1) {
            insertOne(events.get(0));
            return;
        }
        jdbc.queryForObject("select pg_current_xact_id()::text", String.class);
        jdbc.batchUpdate(INSERT, new BatchPreparedStatementSetter() {
            @Override
            public void setValues(PreparedStatement ps, int i) throws SQLException {
                bind(ps, 0, events.get(i));
            }

            @Override
            public int getBatchSize() {
                return events.size();
            }
        });
    }

    /**
     * One event (every single write): the transaction id and then the insert, still two statements
     * in that order, sent in one round trip (pgjdbc sends a multi-statement string as separate
     * statements before one Sync). Issue 13 item 5: a round trip fewer per write.
     */
    private void insertOne(Encoded event) {
        jdbc.execute((org.springframework.jdbc.core.ConnectionCallback<Void>) connection -> {
            try (PreparedStatement statement = connection.prepareStatement(XACT_ID_THEN_INSERT)) {
                bind(statement, 0, event);
                statement.execute(); // the transaction id's row
                if (statement.getMoreResults() || statement.getUpdateCount() != 1) {
                    throw new SQLException("the audit event was not inserted");
                }
                return null;
            }
        });
    }

    private static final String XACT_ID_THEN_INSERT = "select pg_current_xact_id()::text;\n" + INSERT;

    private static void bind(PreparedStatement ps, int offset, Encoded encoded) throws SQLException {
        AuditEvent e = encoded.event();
        ps.setObject(offset + 1, e.id());
        ps.setTimestamp(offset + 2, Timestamp.from(e.timestamp()));
        ps.setString(offset + 3, e.user());
        ps.setString(offset + 4, e.action().code());
        ps.setString(offset + 5, e.success() ? "success" : "failure");
        ps.setString(offset + 6, e.patient());
        ps.setBytes(offset + 7, encoded.body());
    }
}
