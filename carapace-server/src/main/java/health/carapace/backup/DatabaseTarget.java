package health.carapace.backup;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import health.carapace.platform.config.DatabaseFailover;
import org.springframework.core.env.PropertyResolver;

/**
 * One of the two databases as PostgreSQL's own tools reach it: the JDBC URL of the installation
 * turned into a libpq connection URI, and the owner role (the one that runs migrations and owns
 * the schemas), whose password travels in the tool's environment, never on its command line.
 *
 * <p>A URL naming several hosts (a replicated cluster) is used through its primary only, exactly as
 * the pools use it ({@link DatabaseFailover#url}): {@code targetServerType=primary} for JDBC and
 * {@code target_session_attrs=read-write} for libpq. Otherwise the first member that answers
 * would be taken, a standby after the first failover: a backup's serializable snapshot would be
 * refused there, and a restore's checks and its {@code psql} load could reach different members.
 *
 * @param jdbcUrl {@code jdbc:postgresql://host[:port][,host2[:port]]/database[?parameters]}; a
 *     URL naming several hosts without {@code targetServerType} gets {@code targetServerType=primary}
 * @param user the owner role
 * @param password its password (may be empty: trust authentication in start-dev)
 */
public record DatabaseTarget(String jdbcUrl, String user, String password) {

    private static final String PREFIX = "jdbc:postgresql://";
    /** JDBC parameters that mean the same to libpq, under their libpq names. */
    private static final Map<String, String> LIBPQ_PARAMETERS = Map.of(
            "sslmode", "sslmode", "sslrootcert", "sslrootcert", "sslcert", "sslcert", "sslkey", "sslkey",
            "connecttimeout", "connect_timeout");
    /** What pgjdbc accepts for "the server that takes writes", exactly; libpq's name for it is read-write. */
    private static final java.util.Set<String> PRIMARY = java.util.Set.of("primary", "master");

    public DatabaseTarget {
        if (jdbcUrl == null || !jdbcUrl.startsWith(PREFIX) || jdbcUrl.indexOf('/', PREFIX.length()) < 0) {
            throw new BackupRefused(BackupRefused.UNUSABLE,
                    "a database URL must have the form jdbc:postgresql://HOST[:PORT]/DATABASE[?...]");
        }
        if (user == null || user.isBlank()) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "the database owner role is not configured");
        }
        password = password == null ? "" : password;
        DatabaseFailover.problem("the database URL", jdbcUrl).ifPresent(problem -> {
            throw new BackupRefused(BackupRefused.UNUSABLE, problem);
        });
        jdbcUrl = DatabaseFailover.url(jdbcUrl);
    }

    /**
     * The PHI database ({@code carapace.db}) or the keyring ({@code carapace.keyring}) of the
     * configuration, as its owner: {@code owner-username} when set, else {@code username}.
     */
    public static DatabaseTarget of(PropertyResolver settings, String prefix) {
        String owner = settings.getProperty(prefix + ".owner-username", "");
        boolean ownerSet = !owner.isBlank();
        return new DatabaseTarget(settings.getProperty(prefix + ".url"),
                ownerSet ? owner : settings.getProperty(prefix + ".username"),
                settings.getProperty(prefix + (ownerSet ? ".owner-password" : ".password"), ""));
    }

    /** The PHI database and the keyring of {@code settings}. */
    public static Pair of(PropertyResolver settings) {
        return new Pair(of(settings, "carapace.db"), of(settings, "carapace.keyring"));
    }

    /** Both databases of an installation; the keyring may be the same database (start-dev) or another. */
    public record Pair(DatabaseTarget phi, DatabaseTarget keyring) {

        /** Whether the keyring is a schema of the PHI database: then one snapshot covers both. */
        public boolean sameDatabase() {
            return phi.hostsAndDatabase().equals(keyring.hostsAndDatabase());
        }
    }

    /** The libpq connection URI (no user, no password: those go in {@link #environment()}). */
    public String libpqUri() {
        String rest = jdbcUrl.substring(PREFIX.length());
        int query = rest.indexOf('?');
        String base = query < 0 ? rest : rest.substring(0, query);
        List<String> parameters = new ArrayList<>();
        if (query >= 0) {
            for (String pair : rest.substring(query + 1).split("&")) {
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    continue;
                }
                String name = pair.substring(0, eq).toLowerCase(Locale.ROOT);
                String value = pair.substring(eq + 1);
                if (LIBPQ_PARAMETERS.containsKey(name)) {
                    parameters.add(LIBPQ_PARAMETERS.get(name) + "=" + value);
                } else if (pair.startsWith("targetServerType=")) {
                    // Exactly as pgjdbc reads it (s7 review finding 11): DatabaseFailover has made sure a URL
                    // naming several hosts spells it so and says primary; libpq then goes where pgjdbc goes.
                    if (PRIMARY.contains(value)) {
                        parameters.add("target_session_attrs=read-write");
                    } else if (base.contains(",")) {
                        throw new BackupRefused(BackupRefused.UNUSABLE, "the database URL names several hosts: its "
                                + "targetServerType must be primary (a backup or restore works on the primary only)");
                    }
                }
            }
        }
        return "postgresql://" + base + (parameters.isEmpty() ? "" : "?" + String.join("&", parameters));
    }

    /** The environment of a PostgreSQL tool acting as the owner. */
    public Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PGUSER", user);
        env.put("PGPASSWORD", password);
        env.put("PGAPPNAME", "carapace-backup");
        env.put("PGCONNECT_TIMEOUT", "30");
        // never a user's ~/.pgpass or service file in place of the configuration
        env.put("PGPASSFILE", "/dev/null");
        env.put("PGSERVICEFILE", "/dev/null");
        return env;
    }

    /** Hosts, ports and database name, lower-cased: what identifies the database. */
    String hostsAndDatabase() {
        String rest = jdbcUrl.substring(PREFIX.length());
        int query = rest.indexOf('?');
        return (query < 0 ? rest : rest.substring(0, query)).toLowerCase(Locale.ROOT);
    }

    /** Never the password. */
    @Override
    public String toString() {
        return "DatabaseTarget[" + hostsAndDatabase() + " as " + user + "]";
    }
}
