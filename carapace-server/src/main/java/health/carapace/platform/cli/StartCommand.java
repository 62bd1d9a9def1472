package health.carapace.platform.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

@Command(name = "start", mixinStandardHelpOptions = true,
        description = {
            "Runs Carapace in production mode. Requires an external PostgreSQL over verified TLS, a TLS",
            "certificate and the pkcs11 KEK; refuses to start, naming what is missing, otherwise.",
            "Settings come from environment variables (CARAPACE_DB_URL, ...) or --name=value arguments."})
public class StartCommand implements Callable<Integer> {

    @Unmatched
    List<String> properties = new ArrayList<>();

    private final Launcher.App app;
    private final Runnable onStarted;

    public StartCommand(Launcher.App app, Runnable onStarted) {
        this.app = app;
        this.onStarted = onStarted;
    }

    @Override
    public Integer call() {
        ServerHandle server = Launcher.production(app, properties.toArray(String[]::new));
        Launcher.serve(server, onStarted);
        return 0;
    }
}
