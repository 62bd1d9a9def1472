package health.carapace.crypto.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import health.carapace.crypto.KeyUnavailableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import org.flywaydb.core.Flyway;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The keyring table, reached through a connection pool of its own and a database role of its
 * own. Nothing outside the crypto module can obtain this pool, and the PHI role has no grant on
 * the keyring schema, so a SQL injection in the record path cannot read wrapped keys.
 */
final class KeyringStore implements DisposableBean {

    record WrappedKey(String keyRef, String kekId, byte[] wrapped) {}

    /** Advisory lock key ("carapace" in ASCII) serialising KEK creation across nodes. */
    private static final long KEK_CREATION_LOCK = 0x6361726170616365L;

    /** Advisory lock class ("shre") for per-compartment locks: key creation versus shredding. */
    private static final int COMPARTMENT_LOCK_CLASS = 0x73687265;
    static final String DEK_PREFIX = "dek/";

    private final HikariDataSource pool;
    private final JdbcClient jdbc;
    private final TransactionTemplate keyringTransactions;

    KeyringStore(KeyringProperties properties) {
        Flyway.configure()
                .dataSource(properties.url(), properties.ownerUsernameOrDefault(), properties.ownerPasswordOrDefault())
                .locations("classpath:db/keyring")
                .schemas("keyring")
                .placeholders(java.util.Map.of("keyring_role", properties.username()))
                .load()
                .migrate();
        HikariConfig config = new HikariConfig();
        config.setPoolName("keyring");
        config.setJdbcUrl(properties.url());
        config.setUsername(properties.username());
        config.setPassword(properties.password());
        config.setMaximumPoolSize(4);
        this.pool = new HikariDataSource(config);
        this.jdbc = JdbcClient.create(pool);
        this.keyringTransactions = new TransactionTemplate(new JdbcTransactionManager(pool));
    }

    /**
     * Runs {@code action} holding a keyring-wide PostgreSQL advisory lock: every node opening the
     * KEK takes it, so that "is the keyring empty, then may I create the KEK" is decided and acted
     * on by one node at a time. The lock is tied to the session, so a node that dies releases it.
     */
    <T> T withKekCreationLock(Supplier<T> action) {
        try (Connection connection = pool.getConnection()) {
            try (PreparedStatement lock = connection.prepareStatement("select pg_advisory_lock(?)")) {
                lock.setLong(1, KEK_CREATION_LOCK);
                lock.execute();
            }
            try {
                return action.get();
            } finally {
                try (PreparedStatement unlock = connection.prepareStatement("select pg_advisory_unlock(?)")) {
                    unlock.setLong(1, KEK_CREATION_LOCK);
                    unlock.execute();
                }
            }
        } catch (SQLException e) {
            throw new KeyUnavailableException("Cannot take the keyring lock needed to open the KEK", e);
        }
    }

    boolean isEmpty() {
        return jdbc.sql("select not exists (select 1 from keyring.wrapped_key)").query(Boolean.class).single();
    }

    Optional<WrappedKey> find(String keyRef) {
        return jdbc.sql("select key_ref, kek_id, wrapped from keyring.wrapped_key where key_ref = ?")
                .param(keyRef)
                .query((rs, n) -> new WrappedKey(rs.getString(1), rs.getString(2), rs.getBytes(3)))
                .optional();
    }

    /** Stores a key unless another node stored one first; the caller then reads the winner. */
    void insertIfAbsent(String keyRef, String kekId, byte[] wrapped) {
        jdbc.sql("insert into keyring.wrapped_key (key_ref, kek_id, wrapped) values (?, ?, ?) on conflict do nothing")
                .params(keyRef, kekId, wrapped)
                .update();
    }

    /**
     * Crypto-shredding: records {@code compartment} as shredded and deletes every wrapped data key
     * of it (every version: any key reference under {@code dek/<compartment>}), in one keyring
     * transaction. Serialised with key creation for the same compartment by a transaction-scoped
     * advisory lock, so a key being created concurrently is either deleted here or never created.
     * Idempotent; returns how many wrapped keys it deleted.
     */
    int shred(String compartment, UUID requestId) {
        return keyringTransactions.execute(status -> {
            lockCompartment(compartment);
            jdbc.sql("insert into keyring.shredded_compartment (compartment, request_id) values (?, ?) on conflict do nothing")
                    .params(compartment, requestId)
                    .update();
            // A patient compartment is 'Patient/<uuid>': fixed length, so the prefix names no other compartment.
            return jdbc.sql("delete from keyring.wrapped_key where starts_with(key_ref, ?)")
                    .param(DEK_PREFIX + compartment)
                    .update();
        });
    }

    boolean isShredded(String compartment) {
        return jdbc.sql("select exists (select 1 from keyring.shredded_compartment where compartment = ?)")
                .param(compartment)
                .query(Boolean.class)
                .single();
    }

    /** Which of {@code compartments} are shredded (for evicting cached keys on every node). */
    List<String> shreddedAmong(Collection<String> compartments) {
        if (compartments.isEmpty()) {
            return List.of();
        }
        return jdbc.sql("select compartment from keyring.shredded_compartment where compartment = any(?)")
                .param(compartments.toArray(String[]::new))
                .query(String.class)
                .list();
    }

    /**
     * Stores a new data key for {@code compartment} unless another node stored one first or the
     * compartment is shredded; returns false only in the latter case.
     */
    boolean insertDataKeyUnlessShredded(String compartment, String keyRef, String kekId, byte[] wrapped) {
        return keyringTransactions.execute(status -> {
            lockCompartment(compartment);
            if (isShredded(compartment)) {
                return false;
            }
            insertIfAbsent(keyRef, kekId, wrapped);
            return true;
        });
    }

    private void lockCompartment(String compartment) {
        jdbc.sql("select pg_advisory_xact_lock(?, hashtext(?))")
                .params(COMPARTMENT_LOCK_CLASS, compartment)
                .query((rs, n) -> 1)
                .list();
    }

    @Override
    public void destroy() {
        pool.close();
    }
}
