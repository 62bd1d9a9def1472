package health.carapace.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Unmatched;

/**
 * A command that runs the server ({@code start}, {@code start-dev}) until the JVM is asked to
 * stop. Every {@code --name=value} after its options is a configuration property.
 */
abstract class ServerCommand implements Callable<Integer> {

    @Unmatched
    List<String> properties = new ArrayList<>();

    private final Launcher.Application app;
    private final Runnable onStarted;

    ServerCommand(Launcher.Application app, Runnable onStarted) {
        this.app = app;
        this.onStarted = onStarted;
    }

    /** Starts the server in this command's mode. */
    abstract ServerHandle start(Launcher.Application app, String[] properties) throws Exception;

    @Override
    public final Integer call() throws Exception {
        ServerHandle server = start(app, properties.toArray(String[]::new));
        Launcher.serve(server, onStarted);
        return 0;
    }
}
