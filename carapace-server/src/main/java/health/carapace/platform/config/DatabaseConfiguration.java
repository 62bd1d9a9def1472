package health.carapace.platform.config;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The PHI connection pool. Migrations run first, as the owner role; the pool then connects as
 * the application role, which the migrations grant only what the record path needs.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(DatabaseProperties.class)
class DatabaseConfiguration {


    @Bean
    @Primary
    HikariDataSource phiDataSource(DatabaseProperties db) {
        // several hosts (a replicated cluster): only ever the primary (DatabaseFailover)
        String url = DatabaseFailover.url(db.url());
        // No connection while a restore works on this database, except the restore's own (RestoreGate).
        String gate = RestoreGate.finishingRestore() ? null : RestoreGate.CHECK;
        Flyway.configure()
                .dataSource(url, db.ownerUsernameOrDefault(), db.ownerPasswordOrDefault())
                .initSql(gate)
                .locations("classpath:db/migration")
                .placeholders(Map.of("phi_role", db.username()))
                // A session-level advisory lock instead of one held in an open transaction: with the
                // latter, CREATE INDEX CONCURRENTLY (V40, on the audit trail) waits forever for
                // Flyway's own transaction. Nodes starting together are still serialised by the lock.
                .configuration(Map.of("flyway.postgresql.transactional.lock", "false"))
                .load()
                .migrate();
        HikariConfig config = new HikariConfig();
        config.setPoolName("phi");
        config.setJdbcUrl(url);
        config.setUsername(db.username());
        config.setPassword(db.password());
        config.setMaximumPoolSize(db.poolSize());
        // While the database is unreachable a request waits at most this long, then is refused (503).
        config.setConnectionTimeout(db.connectionWait().toMillis());
        // Batches (index tokens, audit group commits) go as multi-row INSERTs: one round trip.
        config.addDataSourceProperty("reWriteBatchedInserts", "true");
        config.setConnectionInitSql(gate);
        // Writers check the shredding tombstone after taking the shared shredding lock, in the same
        // transaction: READ COMMITTED gives that check a snapshot taken after the lock, whatever
        // default_transaction_isolation the database or role has (review L1 of ADR 0052's change).
        config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        DatabaseFailover.configure(config);
        return new HikariDataSource(config);
    }

    @Bean
    @Primary
    PlatformTransactionManager transactionManager(DataSource phiDataSource) {
        return new JdbcTransactionManager(phiDataSource);
    }
}
