package health.carapace.platform.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.SQLExceptionOverride;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

/** A replicated PostgreSQL is reached through its primary only (docs/SCALING.md, ADR 0034). */
class DatabaseFailoverTest {

    private static final String CLUSTER = "jdbc:postgresql://db1.example:5432,db2.example:5432/carapace";

    @Test
    void aUrlNamingSeveralHostsIsUsedThroughItsPrimaryOnly() {
        assertThat(DatabaseFailover.url(CLUSTER)).isEqualTo(CLUSTER + "?targetServerType=primary");
        assertThat(DatabaseFailover.url(CLUSTER + "?sslmode=verify-full"))
                .isEqualTo(CLUSTER + "?sslmode=verify-full&targetServerType=primary");
        // stated by the operator: kept as it is
        assertThat(DatabaseFailover.url(CLUSTER + "?targetServerType=primary")).isEqualTo(CLUSTER + "?targetServerType=primary");
        // one host: nothing to choose between
        assertThat(DatabaseFailover.url("jdbc:postgresql://db1.example:5432/carapace"))
                .isEqualTo("jdbc:postgresql://db1.example:5432/carapace");
    }

    @Test
    void startRefusesAClusterUrlThatCouldReachAStandbyInEveryMode() {
        for (String mode : new String[] {"dev", "prod"}) {
            // pgjdbc looks the value up case and all and has no read-write (s7 review finding 11)
            for (String target : new String[] {"any", "secondary", "preferSecondary", "preferPrimary", "STANDBY",
                "read-write", "PRIMARY"}) {
                MockEnvironment environment = new MockEnvironment().withProperty("carapace.mode", mode)
                        .withProperty("carapace.db.url", CLUSTER + "?sslmode=verify-full&targetServerType=" + target)
                        .withProperty("carapace.keyring.url", CLUSTER + "?targetServerType=" + target);
                var failover = ProductionReadiness.problems(environment).stream()
                        .filter(p -> p.contains("names several hosts")).toList();
                assertThat(failover).as(mode + " " + target).containsExactlyInAnyOrder(
                        "carapace.db.url names several hosts: its targetServerType must be primary (every request writes)",
                        "carapace.keyring.url names several hosts: its targetServerType must be primary (every request writes)");
            }
        }
        for (String target : new String[] {"primary", "master"}) {
            assertThat(DatabaseFailover.problem("carapace.db.url", CLUSTER + "?targetServerType=" + target)).as(target).isEmpty();
        }
        assertThat(DatabaseFailover.problem("carapace.db.url", CLUSTER)).isEmpty();
        assertThat(DatabaseFailover.problem("carapace.db.url", "jdbc:postgresql://db1.example/carapace?targetServerType=any"))
                .as("one host: there is no standby to reach through it").isEmpty();
    }

    @Test
    void aPooledConnectionThatMeetsAServerRefusingWritesIsDropped() {
        HikariConfig pool = new HikariConfig();
        DatabaseFailover.configure(pool);
        SQLExceptionOverride override = pool.getExceptionOverride();
        assertThat(override.adjudicate(new SQLException("read-only", "25006")))
                .isEqualTo(SQLExceptionOverride.Override.MUST_EVICT);
        assertThat(override.adjudicate(new SQLException("duplicate key", "23505")))
                .isEqualTo(SQLExceptionOverride.Override.CONTINUE_EVICT);
    }
}
