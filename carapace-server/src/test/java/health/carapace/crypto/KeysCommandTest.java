package health.carapace.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.CarapaceCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./carapace keys ...} against a start-dev data directory, as an operator runs it. */
class KeysCommandTest {

    @TempDir
    Path dataDir;

    @Test
    void rotateKekRunsTheJobToTheEndAndStatusShowsTheVersions() {
        // A short refresh interval keeps the job's settle wait short: given as a --name=value
        // setting, which every admin command passes to its application context, like start does.
        String fast = "--carapace.keys.refresh-interval=PT0.2S";
        Run rotate = run(new String[] {"keys", "rotate-kek", "--data-dir", dataDir.toString(), fast});
        Run status = run(new String[] {"keys", "status", "--data-dir", dataDir.toString(), fast});

        assertThat(rotate.exit()).as(rotate.out()).isZero();
        assertThat(rotate.out()).contains("Started key job").contains("Finished key job");
        assertThat(status.exit()).as(status.out()).isZero();
        assertThat(status.out())
                .containsPattern("kek +dev-keystore/kek-1 +1 .* retired")
                .containsPattern("kek +dev-keystore/kek-2 +2 .* active")
                .containsPattern("index-root +index-root +1 .* active")
                .containsPattern("rewrap-kek +finished +phase=done");
    }

    @Test
    void aSettingGivenOnTheCommandLineReachesTheCommandsApplicationContext() {
        // A warning threshold of one encryption flags every key that has encrypted anything,
        // and status then exits 3: only if the setting was applied.
        Run status = run(new String[] {"keys", "status", "--data-dir", dataDir.toString(),
                "--carapace.keys.encryption-warning=1"});

        assertThat(status.exit()).as(status.out()).isEqualTo(3);
    }

    @Test
    void aMistypedOptionIsRefusedInsteadOfPassedOnAsASetting() {
        Run refused = run(new String[] {"keys", "status", "--data-dir", dataDir.toString(), "--verbose"});

        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.out()).contains("Unknown option: '--verbose'");
    }

    private record Run(int exit, String out) {}

    private static Run run(String[] args) {
        CommandLine cli = CarapaceCli.commandLine();
        StringWriter out = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(out));
        int exit = cli.execute(args);
        return new Run(exit, out.toString());
    }
}
