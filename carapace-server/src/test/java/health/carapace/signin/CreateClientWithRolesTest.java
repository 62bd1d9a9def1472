package health.carapace.signin;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.CarapaceCli;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.TestInstallation;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.DriverManager;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import picocli.CommandLine;

/** {@code ./carapace admin create-client --role}: clients hold roles of the policy directory, and only defined ones. */
class CreateClientWithRolesTest {

    @Test
    void aClientGetsTheRolesNamedAndAnUndefinedRoleIsRefused() throws Exception {
        String dataDir = TestInstallation.dataDir().toString();
        CommandLine cli = CarapaceCli.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        StringWriter out = new StringWriter();
        cli.setOut(new PrintWriter(out));
        int exit = cli.execute("admin", "create-client", "--name", "cli-roles", "--role", "radiologist",
                "--role", "admin", "--data-dir", dataDir);
        assertThat(exit).as(err.toString()).isZero();
        Matcher id = Pattern.compile("client_id:\\s+(svc-[0-9a-f-]+)").matcher(out.toString());
        assertThat(id.find()).isTrue();
        String url = TestInstallation.properties().get("carapace.db.url").toString();
        try (var connection = DriverManager.getConnection(url, DevDatabase.OWNER, "")) {
            JdbcClient jdbc = JdbcClient.create(new org.springframework.jdbc.datasource.SingleConnectionDataSource(connection, true));
            List<String> roles = jdbc.sql("select unnest(roles) from iam.service_client where client_id = ? order by 1")
                    .param(id.group(1)).query(String.class).list();
            assertThat(roles).containsExactly("admin", "radiologist");
        }

        StringWriter refusedErr = new StringWriter();
        CommandLine again = CarapaceCli.commandLine();
        again.setErr(new PrintWriter(refusedErr));
        int refused = again.execute("admin", "create-client", "--name", "cli-roles-bad", "--role", "superuser",
                "--data-dir", dataDir);
        assertThat(refused).isEqualTo(2);
        assertThat(refusedErr.toString()).contains("every role must be defined in the policy directory")
                .contains("records-service");
    }
}
