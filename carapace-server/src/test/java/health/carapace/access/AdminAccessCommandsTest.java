package health.carapace.access;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.CarapaceCli;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.DriverManager;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import picocli.CommandLine;

/** {@code ./carapace admin assign} and {@code ./carapace admin access-report} against an installation. */
class AdminAccessCommandsTest {

    private final String dataDir = TestInstallation.dataDir().toString();

    @Test
    void assignAddsAndRemovesAnAuditedAssignmentAndTheReportListsEveryPrincipal() throws Exception {
        String user = "cli-assigned-" + UUID.randomUUID().toString().substring(0, 8);
        String patient = UUID.randomUUID().toString();

        Result assigned = run("admin", "assign", "--user", user, "--patient", patient, "--data-dir", dataDir);
        assertThat(assigned.exit()).as(assigned.err()).isZero();
        assertThat(assigned.out()).contains("Assigned.");
        assertThat(count("select count(*) from iam.care_relationship where member = ? and patient = ? and source = 'assignment'",
                "User/" + user, "Patient/" + patient)).isEqualTo(1);
        assertThat(count("select count(*) from audit.event where action = 'admin_change' and patient = ?", "Patient/" + patient,
                null)).isEqualTo(1);

        Result removed = run("admin", "assign", "--user", user, "--patient", "Patient/" + patient, "--remove",
                "--data-dir", dataDir);
        assertThat(removed.out()).contains("Assignment removed.");
        assertThat(count("select count(*) from iam.care_relationship where member = ?", "User/" + user, null)).isZero();

        TestPolicy.directory(); // the test roles, one of them without constraints
        Result client = run("admin", "create-client", "--name", "cli-reviewed", "--role", "records-service",
                "--data-dir", dataDir);
        assertThat(client.exit()).as(client.err()).isZero();
        Result report = run("admin", "access-report", "--days", "30", "--data-dir", dataDir);
        assertThat(report.out()).contains("Access review").contains("unused = no use in the last 30 days")
                .contains("Roles without constraints (no time window, no IP range): test-everything")
                .contains("service-client svc-").contains("roles:   records-service")
                .contains("unused:  edit:clinical_notes");
        Result review = run("admin", "break-glass-review", "--days", "1", "--data-dir", dataDir);
        assertThat(review.exit()).as(review.err()).isZero();
        assertThat(review.out()).startsWith("opened\texpires\tclosed\tprincipal\tpatient\tgrant\treason");
        boolean clean = report.out().contains("Disabled users still holding a session (must be none): none");
        assertThat(report.exit()).isEqualTo(clean ? 0 : 1);
        assertThat(count("select count(*) from audit.event where action = 'exported' and "
                + "convert_from(body, 'UTF8')::jsonb ->> 'resource' = ?", "/admin/access-report", null)).isPositive();
    }

    private record Result(int exit, String out, String err) {}

    private static Result run(String... args) {
        CommandLine cli = CarapaceCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    private static long count(String sql, String first, String second) throws Exception {
        String url = TestInstallation.properties().get("carapace.db.url").toString();
        try (var connection = DriverManager.getConnection(url, DevDatabase.OWNER, "")) {
            var query = JdbcClient.create(new org.springframework.jdbc.datasource.SingleConnectionDataSource(connection, true))
                    .sql(sql).param(first);
            if (second != null) {
                query = query.param(second);
            }
            return query.query(Long.class).single();
        }
    }
}
