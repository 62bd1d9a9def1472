package health.carapace.cli;

import health.carapace.platform.dev.DevEnvironment;
import java.io.IOException;
import org.springframework.context.ConfigurableApplicationContext;

/** A started Carapace context and what it runs on; closing stops both, in order. */
public final class ServerHandle implements AutoCloseable {

    private final ConfigurableApplicationContext context;
    private final DevEnvironment dev;

    ServerHandle(ConfigurableApplicationContext context, DevEnvironment dev) {
        this.context = context;
        this.dev = dev;
    }

    public ConfigurableApplicationContext context() {
        return context;
    }

    @Override
    public void close() {
        try {
            context.close();
        } finally {
            if (dev != null) {
                try {
                    dev.close();
                } catch (IOException e) {
                    // The embedded database is stopping with the process anyway.
                }
            }
        }
    }
}
