package health.carapace.compliance.internal;

import health.carapace.compliance.Asset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * The technology asset inventory and network map: this server (from its SBOM), its HTTPS
 * listener, the PostgreSQL server as seen over the PHI connection (version, and the TLS state of
 * that connection from {@code pg_stat_ssl}), and what each module contributes
 * ({@link Asset.Source}: the HSM or keystore, the keyring database, Kafka brokers, the witness
 * directory), each with the ePHI flows it takes part in.
 */
@Component
class Inventory {

    private final JdbcClient jdbc;
    private final Environment environment;
    private final List<Asset.Source> sources;
    private final Optional<SoftwareBillOfMaterials> sbom;

    Inventory(DataSource dataSource, Environment environment, List<Asset.Source> sources) {
        this.jdbc = JdbcClient.create(dataSource);
        this.environment = environment;
        this.sources = sources;
        this.sbom = SoftwareBillOfMaterials.load(Inventory.class.getClassLoader());
    }

    Optional<SoftwareBillOfMaterials> sbom() {
        return sbom;
    }

    /** The PostgreSQL server's version number, e.g. {@code 14.22}. */
    String databaseVersion() {
        return jdbc.sql("show server_version").query(String.class).single().split(" ")[0];
    }

    List<Asset> assets() {
        List<Asset> assets = new ArrayList<>();
        Map<String, String> app = new LinkedHashMap<>();
        app.put("mode", environment.getProperty("carapace.mode", "?"));
        app.put("SBOM", sbom.map(s -> "CycloneDX " + s.specVersion() + ", " + s.components().size() + " components")
                .orElse("missing"));
        app.put("Java", System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")");
        assets.add(new Asset("application", sbom.map(SoftwareBillOfMaterials::application).orElse("carapace-server"),
                sbom.map(SoftwareBillOfMaterials::applicationVersion).orElse(null), app,
                List.of("clients -> HTTPS listener -> records (decrypts only after an access decision and a durable audit event)")));
        assets.add(listener());
        assets.add(database());
        for (Asset.Source source : sources) {
            assets.addAll(source.assets());
        }
        return assets;
    }

    private Asset listener() {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("address", environment.getProperty("server.address", "all interfaces"));
        details.put("port", environment.getProperty("local.server.port", environment.getProperty("server.port", "?")));
        details.put("TLS", environment.getProperty("server.ssl.enabled", "false"));
        details.put("protocols", environment.getProperty("server.ssl.enabled-protocols", "?"));
        details.put("cipher suites", environment.getProperty("server.ssl.ciphers", "?"));
        details.put("public base URL", environment.getProperty("carapace.public-base-url", "?"));
        return new Asset("listener", "HTTPS (Tomcat)", null, details,
                List.of("ePHI in transit: FHIR requests and responses, TLS 1.2/1.3 only"));
    }

    private Asset database() {
        Map<String, String> details = new LinkedHashMap<>();
        String version = jdbc.sql("select version()").query(String.class).single();
        details.put("server", version);
        var ssl = jdbc.sql("select ssl, coalesce(version, ''), coalesce(cipher, '') from pg_stat_ssl where pid = pg_backend_pid()")
                .query((rs, n) -> rs.getBoolean(1) ? "TLS " + rs.getString(2) + " " + rs.getString(3) : "no TLS")
                .optional().orElse("unknown");
        details.put("PHI connection", ssl);
        details.put("host", hostOf(environment.getProperty("carapace.db.url", "")));
        return new Asset("database", "PostgreSQL", databaseVersion(), details,
                List.of("records -> phi, phi_index: ciphertext and blind-index tokens only",
                        "audit -> audit: events with references, no PHI", "signin/access -> iam: accounts, sessions, roles"));
    }

    /** Host and port of a JDBC URL, without its database name or parameters (which may hold a password). */
    static String hostOf(String jdbcUrl) {
        var m = java.util.regex.Pattern.compile("^jdbc:postgresql://([^/?]*)").matcher(jdbcUrl);
        return m.find() ? m.group(1).replaceAll(".*@", "") : "?";
    }
}
