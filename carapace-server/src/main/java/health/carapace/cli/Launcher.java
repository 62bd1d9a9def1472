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
        // Until the server is up, a stop (Ctrl-C during start) still stops the database it started;
        // from then on the handle closes both, the server first (serve).
        Thread stopDatabase = new Thread(() -> closeQuietly(dev), "carapace-dev-database");
        Runtime.getRuntime().addShutdownHook(stopDatabase);
        try {
            ServerHandle server = new ServerHandle(app.run(dev.properties(), true, args), dev);
            handOver(stopDatabase);
            return server;
        } catch (RuntimeException e) {
            handOver(stopDatabase);
            dev.close();
            throw e;
        }
    }

    private static void handOver(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException exiting) {
            // the JVM is already stopping: the hook is running and stops the database
        }
    }

    private static void closeQuietly(DevEnvironment dev) {
        try {
            dev.close();
        } catch (IOException e) {
            // stopping with the process anyway
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
