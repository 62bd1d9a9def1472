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

    /**
     * Takes the lock shared, then runs {@code query} (one row), in one round trip: pgjdbc sends the
     * two statements before a single Sync. The query stays a statement of its own, so its snapshot
     * is taken once the lock is granted and includes a tombstone written by an approval that held
     * the lock exclusively (as taking the lock and then querying in two round trips did).
     */
    static <T> T holdSharedThen(org.springframework.jdbc.core.JdbcTemplate jdbc, String compartment, String query,
            org.springframework.jdbc.core.RowMapper<T> row, Object... args) {
        return jdbc.execute((org.springframework.jdbc.core.ConnectionCallback<T>) connection -> {
            try (java.sql.PreparedStatement statement = connection.prepareStatement(
                    "select pg_advisory_xact_lock_shared(hashtext(?));\n" + query)) {
                statement.setString(1, KEY_PREFIX + compartment);
                for (int i = 0; i < args.length; i++) {
                    statement.setObject(i + 2, args[i]);
                }
                statement.execute(); // the lock's row
                if (!statement.getMoreResults()) {
                    throw new java.sql.SQLException("the query after the shredding lock returned no rows");
                }
                try (java.sql.ResultSet rs = statement.getResultSet()) {
                    if (!rs.next()) {
                        throw new java.sql.SQLException("the query after the shredding lock returned no rows");
                    }
                    return row.mapRow(rs, 0);
                }
            }
        });
    }

    static void holdExclusive(JdbcClient jdbc, String compartment) {
        jdbc.sql("select pg_advisory_xact_lock(hashtext(?))").param(KEY_PREFIX + compartment)
                .query((rs, n) -> 1).list();
    }
}
