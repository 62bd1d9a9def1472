package health.carapace.cli;

import health.carapace.platform.dev.DevEnvironment;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Starts the application in one of the two modes. The application is passed in, so that a test
 * starts a server exactly as {@code start-dev} does without the launcher's exit.
 */
public final class Launcher {

    /** Starts the Spring application: {@code CarapaceApplication::run} (lowest-precedence defaults, web or not, arguments). */
    @FunctionalInterface
    public interface Application {
        ConfigurableApplicationContext run(Map<String, Object> defaults, boolean web, String... args);
    }

    private Launcher() {
    }

    public static ServerHandle dev(Path dataDir, Application app, String... args) throws IOException {
        DevEnvironment dev = DevEnvironment.open(dataDir);
        try {
            return new ServerHandle(app.run(dev.properties(), true, args), dev);
        } catch (RuntimeException e) {
            dev.close();
            throw e;
        }
    }

    public static ServerHandle production(Application app, String... args) {
        return new ServerHandle(app.run(Map.of("carapace.mode", "prod"), true, args), null);
    }

    /** Keeps a started server running until the JVM is asked to stop, and tells the operator where it is. */
    static void serve(ServerHandle server, Runnable onStarted) {
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "carapace-shutdown"));
        StartupBanner.print(server.context());
        onStarted.run();
    }
}
