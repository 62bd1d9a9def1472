package health.carapace.testing;

import health.carapace.platform.dev.DevEnvironment;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * One start-dev installation (embedded PostgreSQL, dev KEK, self-signed certificate) in a
 * temporary directory, shared by every test in the JVM, as Spring shares its test context.
 */
public final class TestInstallation {

    private static final java.util.Set<ConfigurableApplicationContext> CONTEXTS =
            java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static DevEnvironment environment;

    private TestInstallation() {
    }

    public static synchronized DevEnvironment get() {
        if (environment == null) {
            environment = openUntilExit("carapace-test-");
        }
        return environment;
    }

    /**
     * Another installation with a PostgreSQL cluster of its own, for a test that must not see what
     * other tests stored (an empty keyring, say). Each call starts one; it stops when the JVM exits.
     */
    public static DevEnvironment separate(String name) {
        return openUntilExit("carapace-" + name + "-");
    }

    /**
     * Closes {@code context} at exit before any installation's database stops. Spring closes test
     * contexts from a shutdown hook of its own, which runs at the same time as ours: a context
     * closing against a database already stopped waits for a connection (30 s) while saving its
     * counters, and surefire then kills the JVM and fails the build.
     */
    public static void closeBeforeTheDatabaseAtExit(ConfigurableApplicationContext context) {
        CONTEXTS.add(context);
    }

    private static DevEnvironment openUntilExit(String directoryPrefix) {
        try {
            Path dir = Files.createTempDirectory(directoryPrefix);
            DevEnvironment started = DevEnvironment.open(dir);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    // close() waits for a close already under way in Spring's own hook
                    CONTEXTS.forEach(ConfigurableApplicationContext::close);
                    started.close();
                    org.springframework.util.FileSystemUtils.deleteRecursively(dir);
                } catch (IOException ignored) {
                    // the JVM is exiting; a leftover temporary directory is harmless
                }
            }));
            return started;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The shared installation's properties, with a PHI pool of 8: every cached test context keeps
     * its pool's connections open, and a dozen contexts of 20 each left the command-line tests'
     * contexts without a connection ("too many clients").
     */
    public static Map<String, Object> properties() {
        Map<String, Object> properties = new java.util.HashMap<>(get().properties());
        properties.put("carapace.db.pool-size", "8");
        return properties;
    }

    public static Path dataDir() {
        return get().dataDir();
    }

    /** Trusts exactly the installation's self-signed certificate. */
    public static SSLContext trustingSslContext(Path dataDir) {
        try {
            Path tls = dataDir.resolve("tls");
            char[] password = Files.readString(tls.resolve("server.p12.password")).trim().toCharArray();
            KeyStore keyStore = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(tls.resolve("server.p12"))) {
                keyStore.load(in, password);
            }
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("carapace", keyStore.getCertificate("carapace"));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (Exception e) {
            throw new IllegalStateException("cannot build a trust store for the test certificate", e);
        }
    }
}
