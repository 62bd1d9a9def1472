package health.carapace.cli;

import health.carapace.platform.logging.SafeMessage;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code carapace} command: {@code start-dev} and {@code start} run the server, {@code admin},
 * {@code audit} and {@code keys} act on an installation without serving. One command per file in
 * this package; server commands extend {@link ServerCommand}, offline ones {@link InstallationCommand}.
 */
@Command(name = "carapace", mixinStandardHelpOptions = true,
        description = "Carapace: a FHIR R4 patient-record server with encryption, access control and audit built in.",
        subcommands = {AdminCommands.class, AuditCommands.class, KeysCommands.class, ComplianceCommands.class,
            IncidentCommands.class, DrillCommands.class, BackupCommand.class, RestoreCommand.class})
public final class CarapaceCommand {

    private CarapaceCommand() {
    }

    /**
     * The command line; {@code app} starts the application (kept out of this module so that it
     * does not depend on the composition root), {@code onStarted} is told when a
     * server command is serving (the JVM must then not exit).
     */
    public static CommandLine commandLine(Launcher.Application app, Runnable onStarted) {
        CommandLine.IFactory defaults = CommandLine.defaultFactory();
        // Offline commands start the same application (without its web server) for their installation.
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> type) throws Exception {
                K created = defaults.create(type);
                if (created instanceof InstallationCommand command) {
                    command.installation.application = app;
                }
                return created;
            }
        };
        CommandLine cli = new CommandLine(new CarapaceCommand(), factory);
        cli.addSubcommand(new StartDevCommand(app, onStarted));
        cli.addSubcommand(new StartCommand(app, onStarted));
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // Startup refusals carry operator-facing messages; nothing here holds PHI.
            Throwable root = e;
            while (root.getCause() != null && !(root instanceof SafeMessage)) {
                root = root.getCause();
            }
            commandLine.getErr().println(root instanceof SafeMessage
                    ? root.getMessage() : "Carapace failed: " + root.getClass().getName() + " (see the log above)");
            return 2;
        });
        return cli;
    }
}
