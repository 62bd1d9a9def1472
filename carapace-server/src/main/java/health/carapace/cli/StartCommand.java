package health.carapace.cli;

import picocli.CommandLine.Command;

@Command(name = "start", mixinStandardHelpOptions = true,
        description = {
            "Runs Carapace in production mode. Requires an external PostgreSQL over verified TLS, a TLS",
            "certificate and the pkcs11 KEK; refuses to start, naming what is missing, otherwise.",
            "Settings come from environment variables (CARAPACE_DB_URL, ...) or --name=value arguments."})
final class StartCommand extends ServerCommand {

    StartCommand(Launcher.Application app, Runnable onStarted) {
        super(app, onStarted);
    }

    @Override
    ServerHandle start(Launcher.Application app, String[] properties) {
        return Launcher.production(app, properties);
    }
}
