package health.carapace.crypto.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The keyring table, reached through a connection pool of its own and a database role of its
 * own. Nothing outside the crypto module can obtain this pool, and the PHI role has no grant on
 * the keyring schema, so a SQL injection in the record path cannot read wrapped keys.
 */
final class KeyringStore implements DisposableBean {

    record WrappedKey(String keyRef, String kekId, byte[] wrapped) {}

    private final HikariDataSource pool;
    private final JdbcClient jdbc;

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

    @Override
    public void destroy() {
        pool.close();
    }
}
