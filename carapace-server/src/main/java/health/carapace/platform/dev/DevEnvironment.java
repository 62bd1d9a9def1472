package health.carapace.platform.dev;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything {@code start-dev} needs on a machine with only a JDK: the embedded database, the
 * self-signed certificate and the dev KEK location, all under one data directory. Its
 * properties are defaults: environment variables and command-line flags still override them.
 */
public final class DevEnvironment implements AutoCloseable {

    private final Path dataDir;
    private final DevDatabase startedDatabase;
    private final int port;
    private final String tlsPassword;

    private DevEnvironment(Path dataDir, DevDatabase startedDatabase, int port, String tlsPassword) {
        this.dataDir = dataDir;
        this.startedDatabase = startedDatabase;
        this.port = port;
        this.tlsPassword = tlsPassword;
    }

    /** Starts the embedded database (or attaches to the one a running server started). */
    public static DevEnvironment open(Path dataDir) throws IOException {
        Path absolute = dataDir.toAbsolutePath().normalize();
        Path pg = absolute.resolve("pg");
        String tlsPassword = DevTls.ensure(absolute.resolve("tls"));
        var running = DevDatabase.runningPort(pg);
        if (running.isPresent()) {
            return new DevEnvironment(absolute, null, running.get(), tlsPassword);
        }
        DevDatabase database = DevDatabase.start(pg);
        return new DevEnvironment(absolute, database, database.port(), tlsPassword);
    }

    public Path dataDir() {
        return dataDir;
    }

    public Map<String, Object> properties() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("carapace.mode", "dev");
        p.put("carapace.db.url", DevDatabase.jdbcUrl(port));
        p.put("carapace.db.username", DevDatabase.PHI_ROLE);
        p.put("carapace.db.password", "");
        p.put("carapace.db.owner-username", DevDatabase.OWNER);
        p.put("carapace.db.owner-password", "");
        p.put("carapace.keyring.url", DevDatabase.jdbcUrl(port));
        p.put("carapace.keyring.username", DevDatabase.KEYRING_ROLE);
        p.put("carapace.keyring.password", "");
        p.put("carapace.keyring.owner-username", DevDatabase.OWNER);
        p.put("carapace.keyring.owner-password", "");
        p.put("carapace.kek.provider", "dev-keystore");
        p.put("carapace.kek.dev-keystore.path", dataDir.resolve("keys").toString());
        p.put("server.ssl.key-store", dataDir.resolve("tls").resolve(DevTls.KEYSTORE).toString());
        p.put("server.ssl.key-store-type", "PKCS12");
        p.put("server.ssl.key-store-password", tlsPassword);
        p.put("server.ssl.key-alias", DevTls.ALIAS);
        p.put("carapace.audit.witness-dir", dataDir.resolve("audit-witness").toString());
        p.put("carapace.access.policy-dir", dataDir.resolve("policy").toString());
        p.put("carapace.export.directory", dataDir.resolve("exports").toString());
        // evidence bundles: a development key pair is generated here on first start (its private key beside it)
        p.put("carapace.incident.evidence.public-key", dataDir.resolve("evidence").resolve("evidence-public-key.json").toString());
        // the serving node's pid, for `incident evidence` to take its dumps (written by the server only, not by commands)
        p.put("carapace.incident.evidence.pid-file", dataDir.resolve("carapace.pid").toString());
        // a log file besides the console (same redacting format), so that evidence bundles hold the logs
        p.put("logging.file.name", dataDir.resolve("logs").resolve("carapace.log").toString());
        p.put("logging.structured.format.file", "health.carapace.platform.logging.RedactingJsonFormat");
        // A backend client's JWKS may be served from this machine in development (refused by start).
        p.put("carapace.smart.jwks-allow-loopback", "true");
        p.put("server.address", "127.0.0.1");
        // links and the OAuth issuer; port 0 (a test's random port) means the port actually bound
        p.put("carapace.public-base-url", "https://localhost:${server.port}");
        return p;
    }

    @Override
    public void close() throws IOException {
        if (startedDatabase != null) {
            startedDatabase.close();
        }
    }
}
