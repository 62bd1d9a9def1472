package health.carapace.platform.web;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Readiness checks synchronous replication when the database URL names several hosts (ops review
 * finding 13): the durability claim (no acknowledged write or audit event lost in a failover)
 * holds only while commits wait for a standby. The test installation's embedded PostgreSQL has
 * no standby: named as a cluster, it is not ready; named as one host, nothing is asked of it.
 */
class SynchronousReplicationTest extends IntegrationTest {

    private static final String CLUSTER = "jdbc:postgresql://db1.example:5432,db2.example:5432/carapace";

    @Autowired
    java.util.List<DependencyProbe> probes;

    @Autowired
    org.springframework.core.env.Environment environment;

    @Test
    void aReplicatedDatabaseWhoseCommitsDoNotWaitForAStandbyIsNotReady() {
        assertThat(new SynchronousReplication("phi-database-synchronous-replication", dataSource, CLUSTER, true).reachable())
                .as("synchronous_standby_names is empty on the embedded PostgreSQL").isFalse();
        assertThat(new SynchronousReplication("phi-database-synchronous-replication", dataSource,
                "jdbc:postgresql://localhost:5432/carapace", true).reachable()).as("one host: nothing to check").isTrue();
        // The server's own probe is in place, and the test installation (one host) is ready.
        assertThat(probes).extracting(DependencyProbe::name).contains("phi-database-synchronous-replication");
        assertThat(probes).filteredOn(p -> p.name().equals("phi-database-synchronous-replication"))
                .allMatch(DependencyProbe::reachable);
    }

    /** s7 review finding 6: the explicit opt-out (carapace.db.require-synchronous-replication=false). */
    @Test
    void requiringSynchronousReplicationIsTheDefaultAndOnlyAnExplicitFalseTurnsItOff() {
        assertThat(new SynchronousReplication("phi-database-synchronous-replication", dataSource, CLUSTER, false)
                .reachable()).as("opted out: an asynchronous cluster is ready").isTrue();
        assertThat(new SynchronousReplication("phi-database-synchronous-replication", dataSource, CLUSTER, true)
                .reachable()).as("required: the same cluster is not").isFalse();
        // The server's probe reads the setting with true as its default (the test installation does not set it).
        assertThat(environment.getProperty("carapace.db.require-synchronous-replication")).isNull();
        assertThat(probes).filteredOn(p -> p.name().equals("phi-database-synchronous-replication")).hasSize(1);
    }

    @Test
    void onlyACommitThatWaitsForANamedStandbyCounts() {
        assertThat(SynchronousReplication.problem("on", "ANY 1 (pg1, pg2)")).isEmpty();
        assertThat(SynchronousReplication.problem("remote_apply", "\"pg2\"")).isEmpty();
        assertThat(SynchronousReplication.problem("on", "")).get().asString()
                .contains("synchronous_standby_names is empty");
        assertThat(SynchronousReplication.problem("ON", " ")).isPresent();
        for (String weaker : new String[] {"off", "local", "remote_write"}) {
            assertThat(SynchronousReplication.problem(weaker, "pg2")).as(weaker).get().asString()
                    .contains("synchronous_commit = " + weaker);
        }
        assertThat(SynchronousReplication.problem("'; drop", "pg2")).get().asString()
                .as("a value that is not a setting name is not repeated").contains("synchronous_commit = ?");
    }
}
