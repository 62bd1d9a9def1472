package health.carapace.testing;

import health.carapace.CarapaceApplication;
import java.util.HashMap;
import java.util.Map;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Another Carapace node on the shared test installation's databases, HSM and data directory, for
 * what must hold on every node (containment, revocation): its own Spring context and HTTPS port.
 */
public final class SecondNode implements AutoCloseable {

    private final ConfigurableApplicationContext context;
    private final int port;

    private SecondNode(ConfigurableApplicationContext context) {
        this.context = context;
        this.port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    }

    /** Starts a node with the installation's properties, a random port and a small pool. */
    public static SecondNode start() {
        TestPolicy.directory(); // the test roles, before the node loads the policy directory
        Map<String, Object> properties = new HashMap<>(TestInstallation.properties());
        properties.put("server.port", "0");
        properties.put("carapace.db.pool-size", "4");
        return new SecondNode(new SpringApplicationBuilder(CarapaceApplication.class).run(properties.entrySet().stream()
                .map(property -> "--" + property.getKey() + "=" + property.getValue()).toArray(String[]::new)));
    }

    public int port() {
        return port;
    }

    @Override
    public void close() {
        context.close();
    }
}
