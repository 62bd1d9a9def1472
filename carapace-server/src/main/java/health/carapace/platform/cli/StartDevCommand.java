package health.carapace.platform.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

@Command(name = "start-dev", mixinStandardHelpOptions = true,
        description = {
            "Runs Carapace for development: embedded PostgreSQL, a dev KEK keystore and a self-signed",
            "certificate under the data directory, HTTPS on 127.0.0.1. Not for real patient data.",
            "Any --name=value after the options sets a configuration property (see the README)."})
public class StartDevCommand implements Callable<Integer> {

    @Option(names = "--data-dir", defaultValue = "${CARAPACE_DATA_DIR:-./data}",
            description = "Where database, keys and certificate live (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Unmatched
    List<String> properties = new ArrayList<>();

    private final Launcher.App app;
    private final Runnable onStarted;

    public StartDevCommand(Launcher.App app, Runnable onStarted) {
        this.app = app;
        this.onStarted = onStarted;
    }

    @Override
    public Integer call() throws Exception {
        System.err.println("WARNING: start-dev is for development only. Its KEK passphrase sits beside the "
                + "keystore in " + dataDir.resolve("keys") + "; use ./carapace start for real data.");
        ServerHandle server = Launcher.dev(dataDir, app, properties.toArray(String[]::new));
        Launcher.serve(server, onStarted);
        return 0;
    }
}
