package health.carapace;

import health.carapace.cli.CarapaceCommand;
import health.carapace.platform.logging.EarlyLogging;
import picocli.CommandLine;

/** The {@code carapace} launcher's entry point; the commands are in {@link health.carapace.cli}. */
public final class Carapace {

    private static volatile boolean serving;

    private Carapace() {
    }

    public static void main(String[] args) {
        EarlyLogging.install();
        int code = commandLine().execute(args);
        if (!serving) {
            System.exit(code);
        }
    }

    static CommandLine commandLine() {
        return CarapaceCommand.commandLine(CarapaceApplication::run, () -> serving = true);
    }
}
