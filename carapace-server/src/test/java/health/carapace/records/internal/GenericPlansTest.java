package health.carapace.records.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A filtered search's statements run with generic plans (ADR 0056), observed as PostgreSQL counts
 * them on one connection: the statement a search with several candidates uses to load them
 * (prepared on the server, as the driver does after five uses) is planned once, never per call,
 * and the setting ends with the search's transaction, so the pooled connection goes back as it was.
 */
class GenericPlansTest extends IntegrationTest {

    private Connection connection;
    private JdbcClient jdbc;
    private GenericPlans genericPlans;
    private TransactionTemplate transactions;

    @BeforeEach
    void oneConnection() throws Exception {
        String url = TestInstallation.get().properties().get("carapace.db.url").toString();
        connection = DriverManager.getConnection(url + (url.contains("?") ? "&" : "?") + "prepareThreshold=1",
                DevDatabase.OWNER, "");
        SingleConnectionDataSource dataSource = new SingleConnectionDataSource(connection, true);
        jdbc = JdbcClient.create(dataSource);
        transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        genericPlans = new GenericPlans(jdbc, transactions);
    }

    @AfterEach
    void close() throws Exception {
        connection.close();
    }

    @Test
    void theCandidatesStatementIsNeverPlannedPerCall() {
        String sql = RecordStore.currentVersionsSql(false, "true");
        for (int i = 0; i < 10; i++) {
            UUID[] ids = {UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID()};
            assertThat(genericPlans.run(() -> jdbc.sql(sql).params("Patient", ids).query().listOfRows())).isEmpty();
        }
        List<Long> plans = jdbc.sql("select generic_plans, custom_plans from pg_prepared_statements "
                        + "where statement like 'select r.resource_type, r.resource_id%'")
                .query((rs, n) -> List.of(rs.getLong(1), rs.getLong(2))).single();
        assertThat(plans).as("generic, custom plans of the prepared statement").containsExactly(10L, 0L);
    }

    /** What the test above tells apart: the same statement, run plainly, is planned afresh each time. */
    @Test
    void runPlainlyTheSameStatementIsPlannedPerCall() {
        String sql = RecordStore.currentVersionsSql(false, "true");
        for (int i = 0; i < 10; i++) {
            UUID[] ids = {UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID()};
            assertThat(jdbc.sql(sql).params("Patient", ids).query().listOfRows()).isEmpty();
        }
        long custom = jdbc.sql("select custom_plans from pg_prepared_statements "
                + "where statement like 'select r.resource_type, r.resource_id%'").query(Long.class).single();
        assertThat(custom).as("custom plans (at least the first five always are)").isGreaterThanOrEqualTo(5);
    }

    @Test
    void theSettingEndsWithTheTransactionEvenWhenItFails() {
        assertThat(genericPlans.run(this::planCacheMode)).isEqualTo("force_generic_plan");
        assertThat(planCacheMode()).as("after the run, on the same connection").isEqualTo("auto");
        assertThatThrownBy(() -> genericPlans.run(() -> {
            assertThat(planCacheMode()).isEqualTo("force_generic_plan");
            throw new IllegalStateException("a statement failed");
        })).isInstanceOf(IllegalStateException.class);
        assertThat(planCacheMode()).as("after a failed run").isEqualTo("auto");
    }

    @Test
    void insideACallersTransactionNothingIsChanged() {
        String inside = transactions.execute(status -> genericPlans.run(this::planCacheMode));
        assertThat(inside).isEqualTo("auto");
    }

    private String planCacheMode() {
        return jdbc.sql("select current_setting('plan_cache_mode')").query(String.class).single();
    }
}
