package health.carapace.platform.cli;

import health.carapace.platform.dev.DevEnvironment;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.BiFunction;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Starts the application in one of the two modes. The application class is passed in so that
 * this module does not depend on the composition root.
 */
public final class Launcher {

    /** (default properties, arguments) → started context. */
    public interface App extends BiFunction<Map<String, Object>, String[], ConfigurableApplicationContext> {
    }

    private Launcher() {
    }

    public static ServerHandle dev(Path dataDir, App app, String... args) throws IOException {
        DevEnvironment dev = DevEnvironment.open(dataDir);
        try {
            return new ServerHandle(app.apply(dev.properties(), args), dev);
        } catch (RuntimeException e) {
            dev.close();
            throw e;
        }
    }

    public static ServerHandle production(App app, String... args) {
        return new ServerHandle(app.apply(Map.of("carapace.mode", "prod"), args), null);
    }

    /** Keeps a started server running until the JVM is asked to stop, and tells the operator where it is. */
    static void serve(ServerHandle server, Runnable onStarted) {
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "carapace-shutdown"));
        StartupBanner.print(server.context());
        onStarted.run();
    }
}
