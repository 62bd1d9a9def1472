package health.carapace.cli;

import health.carapace.platform.dev.DevEnvironment;
import health.carapace.platform.logging.SafeMessage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.springframework.context.ConfigurableApplicationContext;
import picocli.CommandLine.Option;

/** Options shared by admin commands: which installation to act on. */
final class InstallationOptions {

    private static final Pattern SETTING = Pattern.compile("--[A-Za-z][A-Za-z0-9._\\[\\]-]*=.*");

    /** An argument that is neither an option of the command nor a {@code --name=value} setting. */
    static final class UnknownOption extends IllegalArgumentException implements SafeMessage {
        UnknownOption(String message) {
            super(message);
        }
    }

    @Option(names = "--production", description = "Act on the production configuration (environment "
            + "variables / --name=value) instead of the start-dev data directory.")
    boolean production;

    @Option(names = "--data-dir", defaultValue = "${CARAPACE_DATA_DIR:-./data}",
            description = "start-dev data directory (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    /** What starts the application; set by {@link CarapaceCommand}'s factory. */
    Launcher.Application application;

    /** {@code --name=value} settings; filled through {@link InstallationCommand} (see there). */
    final List<String> properties = new ArrayList<>();

    /**
     * The installation's settings without starting it (a restore loads the databases before any
     * application may run on them): {@code --name=value}, then environment variables, then
     * {@code defaults} (start-dev's).
     */
    org.springframework.core.env.PropertyResolver settings(Map<String, Object> defaults) {
        checkSettings();
        var environment = new org.springframework.core.env.StandardEnvironment();
        environment.getPropertySources().addFirst(
                new org.springframework.core.env.SimpleCommandLinePropertySource(properties.toArray(String[]::new)));
        environment.getPropertySources().addLast(new org.springframework.core.env.MapPropertySource("installation", defaults));
        return environment;
    }

    private void checkSettings() {
        for (String property : properties) {
            // Only settings pass through; a mistyped option is an error, not a silent no-op.
            if (!SETTING.matcher(property).matches()) {
                throw new UnknownOption("Unknown option: '" + property + "' (settings are given as --name=value)");
            }
        }
    }

    /** Runs {@code task} against a non-web application context for the chosen installation. */
    <T> T run(java.util.function.Function<ConfigurableApplicationContext, T> task) throws Exception {
        // Admin output goes to stdout; keep the log to warnings so it does not drown it.
        List<String> arguments = new ArrayList<>(List.of("--logging.level.root=WARN"));
        checkSettings();
        arguments.addAll(properties);
        String[] args = arguments.toArray(String[]::new);
        if (production) {
            try (var context = application.run(Map.of("carapace.mode", "prod"), false, args)) {
                return task.apply(context);
            }
        }
        try (DevEnvironment dev = DevEnvironment.open(dataDir);
                var context = application.run(dev.properties(), false, args)) {
            return task.apply(context);
        }
    }
}
