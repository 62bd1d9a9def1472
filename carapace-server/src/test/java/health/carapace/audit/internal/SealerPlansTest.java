package health.carapace.audit.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import health.carapace.verify.Ed25519TreeHeadSigner;
import java.sql.Connection;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The sealer and the audit-health read look for "the events above the highest sealed id": a
 * generic plan for that scans the whole trail (PostgreSQL estimates a third of the table above an
 * unknown id). The driver prepares a statement on the server after its fifth use and PostgreSQL
 * may then keep a generic plan for good; at 1,000,000 events that cost 0.9 s of a core per seal,
 * every second, and as much on every dashboard visit. Here the connection is set to the worst
 * case, a generic plan for every prepared statement, and the statements on the trail must still
 * be planned for their values.
 */
class SealerPlansTest extends IntegrationTest {

    @Autowired
    private AuditTrail trail;

    @Autowired
    private Ed25519TreeHeadSigner signer;

    @Test
    void theSealerAndTheHealthReadPlanForTheirValuesWhateverThePlanCacheWouldKeep() throws Exception {
        // a connection of its own, not one from the pool: a pooled one also carries the statements
        // other code prepared on it, which this test does not judge
        try (Connection connection = java.sql.DriverManager.getConnection(
                TestInstallation.get().properties().get("carapace.db.url").toString(), DevDatabase.OWNER, "")) {
            SingleConnectionDataSource one = new SingleConnectionDataSource(connection, true);
            JdbcClient session = JdbcClient.create(one);
            session.sql("set plan_cache_mode = force_generic_plan").update();
            TreeSealer sealer = new TreeSealer(one, new TransactionTemplate(new DataSourceTransactionManager(one)), signer,
                    10_000);
            AuditHealth health = new AuditHealth(one, "");
            int seals = 0;
            // the application's own sealer takes turns with this one: seal until this one has sealed
            // often enough for the driver to have prepared its statements on the server
            for (int attempt = 0; attempt < 2_000 && seals < 12; attempt++) {
                trail.record(List.of(new AuditEvent(UUID.randomUUID(), Instant.now(), "sealer-plans-test",
                        AuditAction.VIEWED, "/metadata", AuditContext.none(), true, null, null, null, false, null)));
                if (sealer.sealOnce().isPresent()) {
                    seals++;
                }
                health.snapshot();
            }
            assertThat(seals).as("seals by this sealer").isGreaterThanOrEqualTo(12);

            List<Map<String, Object>> onTheTrail = session.sql("""
                    select statement, generic_plans, custom_plans from pg_prepared_statements
                    where statement like '%from audit.event%'""").query().listOfRows();
            assertThat(onTheTrail).as("statements on the trail prepared on the server")
                    .anySatisfy(row -> assertThat((String) row.get("statement")).contains("e.id > $1 or e.id = any($2)"))
                    .anySatisfy(row -> assertThat((String) row.get("statement")).contains("count(*), min(recorded_at)"))
                    .allSatisfy(row -> {
                        assertThat(((Number) row.get("generic_plans")).longValue()).as("generic plans of %s", row)
                                .isZero();
                        assertThat(((Number) row.get("custom_plans")).longValue()).as("custom plans of %s", row)
                                .isPositive();
                    });
        }
    }
}
