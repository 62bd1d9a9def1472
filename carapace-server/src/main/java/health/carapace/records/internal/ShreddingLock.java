package health.carapace.records.internal;

import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The transaction-scoped PostgreSQL advisory lock that keeps writes and crypto-shredding of one
 * patient apart: writers hold it shared from their tombstone check until they commit, the
 * tombstone is written holding it exclusively ({@link PatientRecordsStore#tombstone}). Its key
 * is known here only.
 */
final class ShreddingLock {

    private static final String KEY_PREFIX = "shredding/";

    private ShreddingLock() {
    }

    /** What a writer learns under the shared lock: whether the patient exists, whether they were shredded. */
    record PatientState(boolean patientExists, boolean shredded) {}

    /**
     * Takes the lock shared, then reads the patient's state, in one round trip: pgjdbc sends the
     * two statements before a single Sync. The read stays a statement of its own, so its snapshot
     * is taken once the lock is granted and includes a tombstone written by an approval that held
     * the lock exclusively (as taking the lock and then querying in two round trips did). Callers
     * pass the patient, not SQL (review of issue 13 item 5, L5): the statements are fixed here.
     */
    static PatientState holdSharedThenRead(org.springframework.jdbc.core.JdbcTemplate jdbc, String compartment,
            java.util.UUID patient) {
        return jdbc.execute((org.springframework.jdbc.core.ConnectionCallback<PatientState>) connection -> {
            try (java.sql.PreparedStatement statement = connection.prepareStatement(LOCK_THEN_READ)) {
                statement.setString(1, KEY_PREFIX + compartment);
                statement.setObject(2, patient);
                statement.setString(3, compartment);
                statement.execute(); // the lock's row
                if (!statement.getMoreResults()) {
                    throw new java.sql.SQLException("the read after the shredding lock returned no rows");
                }
                try (java.sql.ResultSet rs = statement.getResultSet()) {
                    if (!rs.next()) {
                        throw new java.sql.SQLException("the read after the shredding lock returned no rows");
                    }
                    return new PatientState(rs.getBoolean(1), rs.getBoolean(2));
                }
            }
        });
    }

    private static final String LOCK_THEN_READ = """
            select pg_advisory_xact_lock_shared(hashtext(?));
            select exists (select 1 from phi.resource where resource_type = 'Patient' and resource_id = ? and not deleted),
                   exists (select 1 from phi.shredded_compartment where compartment = ?)""";

    static void holdExclusive(JdbcClient jdbc, String compartment) {
        jdbc.sql("select pg_advisory_xact_lock(hashtext(?))").param(KEY_PREFIX + compartment)
                .query((rs, n) -> 1).list();
    }
}
