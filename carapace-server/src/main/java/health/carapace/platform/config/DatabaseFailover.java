package health.carapace.platform.config;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.SQLExceptionOverride;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How Carapace reaches a replicated PostgreSQL (a Patroni cluster, docs/SCALING.md): one JDBC URL
 * naming every member ({@code jdbc:postgresql://db1:5432,db2:5432/carapace}), of which only the
 * primary may ever be used, since every request writes (its audit event at least). The driver
 * tries the members in turn and keeps the first that takes writes; after a failover the pools'
 * broken connections are dropped and new ones find the new primary, with no restart.
 */
public final class DatabaseFailover {

    private static final Pattern HOSTS = Pattern.compile("^jdbc:postgresql://([^/?]*)");
    /** pgjdbc's parameter, spelt exactly so: the driver ignores any other spelling and takes any member. */
    private static final Pattern TARGET = Pattern.compile("[?&]targetServerType=([^&]*)");
    private static final Pattern ANY_SPELLING = Pattern.compile("[?&]targetservertype=", Pattern.CASE_INSENSITIVE);
    /**
     * What pgjdbc accepts for "the server that takes writes" (older drivers say master): exactly
     * these, case and all (it looks the value up as an enum name; libpq's read-write it refuses).
     */
    private static final java.util.Set<String> PRIMARY = java.util.Set.of("primary", "master");
    /** SQLSTATE 25006, read_only_sql_transaction: the server behind this connection takes no writes. */
    private static final String READ_ONLY = "25006";

    private DatabaseFailover() {
    }

    /**
     * The URL the pools and migrations connect with: a URL naming several hosts without a
     * {@code targetServerType} gets {@code targetServerType=primary} (pgjdbc's default, {@code any},
     * would take a standby if it answered first); anything else is returned as it is.
     */
    public static String url(String jdbcUrl) {
        if (jdbcUrl == null || !namesSeveralHosts(jdbcUrl) || ANY_SPELLING.matcher(jdbcUrl).find()) {
            return jdbcUrl;
        }
        return jdbcUrl + (jdbcUrl.contains("?") ? "&" : "?") + "targetServerType=primary";
    }

    /**
     * What is wrong with the URL set as {@code key}, if anything: several hosts with a
     * {@code targetServerType} other than the primary would send writes (and audit events) to a
     * standby, which refuses them, or balance them over members that do not share a primary.
     */
    public static Optional<String> problem(String key, String jdbcUrl) {
        if (jdbcUrl == null || !namesSeveralHosts(jdbcUrl)) {
            return Optional.empty();
        }
        Matcher target = TARGET.matcher(jdbcUrl);
        boolean spelt = target.find();
        if (!spelt && ANY_SPELLING.matcher(jdbcUrl).find()) {
            // s7 review finding 11: pgjdbc would ignore it and connect to any member, a standby included
            return Optional.of(key + " names several hosts: spell its parameter targetServerType (pgjdbc ignores "
                    + "any other spelling)");
        }
        if (spelt && !PRIMARY.contains(target.group(1))) {
            return Optional.of(key + " names several hosts: its targetServerType must be primary (every request writes)");
        }
        return Optional.empty();
    }

    /**
     * Pool settings for failover. Hikari already drops a connection on a connection error (SQLSTATE
     * class 08) or a server shutting down (57P01–57P03); a connection that meets a server refusing
     * writes (a demoted primary, 25006) is dropped too, so that the next one is opened to the
     * primary instead of the pool handing the same stale connection out again.
     */
    public static void configure(HikariConfig pool) {
        pool.setExceptionOverride(new SQLExceptionOverride() {
            @java.lang.Override
            public SQLExceptionOverride.Override adjudicate(java.sql.SQLException error) {
                return READ_ONLY.equals(error.getSQLState()) ? SQLExceptionOverride.Override.MUST_EVICT
                        : SQLExceptionOverride.Override.CONTINUE_EVICT;
            }
        });
    }

    /** Whether {@code jdbcUrl} names several hosts: a replicated cluster, used through its primary. */
    public static boolean namesSeveralHosts(String jdbcUrl) {
        Matcher hosts = HOSTS.matcher(jdbcUrl);
        return hosts.find() && hosts.group(1).contains(",");
    }
}
