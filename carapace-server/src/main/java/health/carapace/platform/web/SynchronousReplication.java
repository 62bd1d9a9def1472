package health.carapace.platform.web;

import health.carapace.platform.config.DatabaseFailover;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Readiness of a replicated PHI database (docs/SCALING.md, ADR 0034; ops review finding 13): when
 * {@code carapace.db.url} names several hosts, the claim that no acknowledged write and no audit
 * event is lost in a failover holds only while every commit waits for a standby. So the server is
 * ready only while its sessions run with {@code synchronous_commit} {@code on} or
 * {@code remote_apply} and {@code synchronous_standby_names} names a standby (Patroni sets it in
 * {@code synchronous_mode}; empty means the cluster runs asynchronously, for instance after the
 * last standby left without {@code synchronous_mode_strict}). The reason goes to the log once per
 * change; {@code /health} itself says only DOWN, as for every probe. One host: nothing to check.
 * {@code carapace.db.require-synchronous-replication} (default true: fail closed) turns the check
 * off explicitly (s7 review finding 6), for clusters that replicate asynchronously or below
 * PostgreSQL (storage-replicated services), giving up the no-lost-write claim.
 */
public final class SynchronousReplication implements DependencyProbe {

    private static final Logger log = LoggerFactory.getLogger(SynchronousReplication.class);
    private static final Set<String> WAITS_FOR_A_STANDBY = Set.of("on", "remote_apply");

    private final String name;
    private final JdbcClient jdbc;
    private final boolean replicated;
    private final AtomicReference<String> lastProblem = new AtomicReference<>("");

    /**
     * @param jdbcUrl the URL the pool behind {@code dataSource} was configured with
     * @param required {@code carapace.db.require-synchronous-replication}: false (an explicit
     *     opt-out, for an asynchronous or storage-replicated cluster) checks nothing, and then an
     *     acknowledged write or audit event can be lost in a failover
     */
    public SynchronousReplication(String name, DataSource dataSource, String jdbcUrl, boolean required) {
        this.name = name;
        this.jdbc = JdbcClient.create(dataSource);
        this.replicated = required && DatabaseFailover.namesSeveralHosts(jdbcUrl);
        if (!required && DatabaseFailover.namesSeveralHosts(jdbcUrl)) {
            log.warn("carapace.db.require-synchronous-replication is false: readiness does not check that commits "
                    + "wait for a standby, so an acknowledged write or audit event can be lost in a failover");
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean reachable() {
        if (!replicated) {
            return true;
        }
        Optional<String> problem;
        try {
            problem = jdbc.sql("select current_setting('synchronous_commit'), current_setting('synchronous_standby_names')")
                    .query((rs, n) -> problem(rs.getString(1), rs.getString(2)))
                    .single();
        } catch (RuntimeException e) {
            return false; // the database probe reports the database itself
        }
        String now = problem.orElse("");
        String before = lastProblem.getAndSet(now);
        if (!now.isEmpty() && !now.equals(before)) {
            log.warn("Not ready: {}", now);
        }
        return problem.isEmpty();
    }

    /** What keeps a commit from waiting for a standby, if anything (settings, never data). */
    static Optional<String> problem(String synchronousCommit, String standbyNames) {
        String commit = synchronousCommit == null ? "" : synchronousCommit.strip().toLowerCase(Locale.ROOT);
        if (!WAITS_FOR_A_STANDBY.contains(commit)) {
            return Optional.of("the replicated PHI database runs with synchronous_commit = "
                    + (commit.matches("[a-z_]{1,20}") ? commit : "?") + ": a commit does not wait for a standby, so "
                    + "an acknowledged write or audit event can be lost in a failover (set it to on or remote_apply)");
        }
        if (standbyNames == null || standbyNames.isBlank()) {
            return Optional.of("the replicated PHI database has no synchronous standby (synchronous_standby_names is "
                    + "empty): it runs asynchronously, so an acknowledged write or audit event can be lost in a "
                    + "failover (Patroni: synchronous_mode, and synchronous_mode_strict for the last standby)");
        }
        return Optional.empty();
    }

    /** The PHI database's synchronous-replication probe (a no-op for one host). */
    @Configuration(proxyBeanMethods = false)
    static class PhiDatabaseReplicationProbe {

        @Bean
        DependencyProbe phiDatabaseSynchronousReplication(DataSource dataSource,
                @Value("${carapace.db.url}") String url,
                @Value("${carapace.db.require-synchronous-replication:true}") boolean required) {
            return new SynchronousReplication("phi-database-synchronous-replication", dataSource, url, required);
        }
    }
}
