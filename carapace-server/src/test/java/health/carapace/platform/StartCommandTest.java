package health.carapace.platform;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.CarapaceCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code carapace start} without a production configuration refuses, naming what is missing. */
class StartCommandTest {

    @Test
    void startWithoutProductionConfigurationRefusesWithOneClearMessage() {
        CommandLine cli = CarapaceCli.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute("start", "--carapace.kek.provider=dev-keystore");
        assertThat(exit).isEqualTo(2);
        assertThat(err.toString())
                .contains("Carapace refuses to start")
                .contains("carapace.db.url is required")
                .contains("TLS certificate is required")
                .contains("dev keystore KEK is for start-dev only");
    }

    @Test
    void everyCommandHasHelp() {
        for (String[] command : new String[][] {{"--help"}, {"start-dev", "--help"}, {"start", "--help"},
                {"admin", "--help"}, {"admin", "create-client", "--help"}, {"admin", "create-user", "--help"},
                {"admin", "disable-user", "--help"}, {"admin", "revoke-sessions", "--help"}, {"admin", "set-roles", "--help"},
                {"admin", "list-users", "--help"}, {"admin", "create-app", "--help"}}) {
            CommandLine cli = CarapaceCli.commandLine();
            StringWriter out = new StringWriter();
            cli.setOut(new PrintWriter(out));
            assertThat(cli.execute(command)).isZero();
            assertThat(out.toString()).contains("Usage:");
        }
    }
}
