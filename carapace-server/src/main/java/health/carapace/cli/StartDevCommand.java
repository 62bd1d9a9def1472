package health.carapace.cli;

import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "start-dev", mixinStandardHelpOptions = true,
        description = {
            "Runs Carapace for development: embedded PostgreSQL, a dev KEK keystore and a self-signed",
            "certificate under the data directory, HTTPS on 127.0.0.1. Not for real patient data.",
            "Any --name=value after the options sets a configuration property (see the README)."})
final class StartDevCommand extends ServerCommand {

    @Option(names = "--data-dir", defaultValue = "${CARAPACE_DATA_DIR:-./data}",
            description = "Where database, keys and certificate live (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    StartDevCommand(Launcher.Application app, Runnable onStarted) {
        super(app, onStarted);
    }

    @Override
    ServerHandle start(Launcher.Application app, String[] properties) throws Exception {
        System.err.println("WARNING: start-dev is for development only. Its KEK passphrase sits beside the "
                + "keystore in " + dataDir.resolve("keys") + "; use ./carapace start for real data.");
        return Launcher.dev(dataDir, app, properties);
    }
}
