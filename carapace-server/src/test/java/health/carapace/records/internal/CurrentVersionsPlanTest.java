package health.carapace.records.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A search by identifier loads its one candidate with a statement PostgreSQL plans once per
 * connection, not on every call (issue 13, search row): with {@code = any(array)} the generic plan
 * is priced at ten elements, dearer than a custom plan for one, so PostgreSQL kept making custom
 * plans, 224 us of planning for 40 us of execution. Observed as PostgreSQL counts it: the
 * statement is prepared on the server (as the driver does after five uses) and run ten times, over
 * 20,000 records added and analysed in a transaction that is rolled back (on a handful of rows
 * both plans cost the same and the difference does not show).
 */
class CurrentVersionsPlanTest extends IntegrationTest {

    @Test
    void theOneIdStatementSettlesOnAGenericPlan() throws Exception {
        assertThat(plansAfterTenRuns(RecordStore.currentVersionsSql(true, "true"), UUID.randomUUID()))
                .as("generic plans").isGreaterThan(0);
    }

    /** What the test above tells apart: the array form, given one id, is planned afresh every time. */
    @Test
    void theArrayStatementWithOneIdIsPlannedOnEveryRun() throws Exception {
        assertThat(plansAfterTenRuns(RecordStore.currentVersionsSql(false, "true"), new UUID[] {UUID.randomUUID()}))
                .as("generic plans").isZero();
    }

    private static long plansAfterTenRuns(String sql, Object id) throws Exception {
        String url = TestInstallation.get().properties().get("carapace.db.url").toString();
        try (Connection c = DriverManager.getConnection(url + (url.contains("?") ? "&" : "?") + "prepareThreshold=1",
                DevDatabase.OWNER, "")) {
            c.setAutoCommit(false);
            try (java.sql.Statement s = c.createStatement()) {
                s.execute("""
                        insert into phi.resource (resource_type, resource_id, current_version, compartment, last_updated, deleted)
                        select 'Patient', id, 1, 'Patient/' || id, now(), false
                        from (select gen_random_uuid() id from generate_series(1, 20000)) g""");
                s.execute("""
                        insert into phi.resource_version (resource_type, resource_id, version, compartment, last_updated, deleted, ciphertext)
                        select resource_type, resource_id, 1, compartment, last_updated, false, '\\x00'::bytea
                        from phi.resource where compartment like 'Patient/%' and last_updated = now()""");
                s.execute("analyze phi.resource");
                s.execute("analyze phi.resource_version");
            }
            try {
                return plans(c, sql, id);
            } finally {
                c.rollback();
                // ANALYZE's row counts in pg_class are not rolled back: counted again for the tests after this one
                c.setAutoCommit(true);
                try (java.sql.Statement s = c.createStatement()) {
                    s.execute("analyze phi.resource");
                    s.execute("analyze phi.resource_version");
                }
            }
        }
    }

    private static long plans(Connection c, String sql, Object id) throws Exception {
        try (PreparedStatement statement = c.prepareStatement(sql)) {
            for (int i = 0; i < 10; i++) {
                statement.setString(1, "Patient");
                statement.setObject(2, id);
                try (ResultSet rs = statement.executeQuery()) {
                    assertThat(rs.next()).isFalse();
                }
            }
        }
        try (PreparedStatement prepared = c.prepareStatement(
                "select generic_plans, custom_plans from pg_prepared_statements where statement like 'select r.resource_type, r.resource_id%'");
                ResultSet rs = prepared.executeQuery()) {
            assertThat(rs.next()).as("the statement was prepared on the server").isTrue();
            assertThat(rs.getLong(1) + rs.getLong(2)).as("plans used").isEqualTo(10);
            return rs.getLong(1);
        }
    }
}
