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

    static void holdShared(JdbcClient jdbc, String compartment) {
        jdbc.sql("select pg_advisory_xact_lock_shared(hashtext(?))").param(KEY_PREFIX + compartment)
                .query((rs, n) -> 1).list();
    }

    static void holdExclusive(JdbcClient jdbc, String compartment) {
        jdbc.sql("select pg_advisory_xact_lock(hashtext(?))").param(KEY_PREFIX + compartment)
                .query((rs, n) -> 1).list();
    }
}
