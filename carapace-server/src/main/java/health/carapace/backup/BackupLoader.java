package health.carapace.backup;

import com.google.crypto.tink.KeysetHandle;
import health.carapace.backup.internal.PostgresTools;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import health.carapace.platform.config.RestoreGate;

/**
 * The first half of a restore, before any application may start on the databases (its
 * migrations would create the schemas the backup brings): checks that the target installation is
 * empty, then loads the keyring and the PHI database from a verified backup directory, each in one
 * transaction. A load that fails removes what it loaded, so the installation is empty again.
 */
public final class BackupLoader {

    private BackupLoader() {
    }

    /** Runs the restore's own finishing application, which the gate lets through (RestoreGate#whileFinishingRestore). */
    public static <T> T whileFinishingRestore(java.util.concurrent.Callable<T> finishing) throws Exception {
        return RestoreGate.whileFinishingRestore(finishing);
    }

    /**
     * Loads {@code manifest}'s files (already checked by {@link BackupArchive#verify}, and read
     * from that same private directory {@code dir}) into {@code targets}. Refuses a non-empty
     * target: a restore goes onto a fresh installation only, and never drops anything it did not load.
     */
    public static void restore(Path dir, BackupArchive.Manifest manifest, KeysetHandle privateKey,
            DatabaseTarget.Pair targets, Progress progress) {
        List<DatabaseTarget> databases = targets.sameDatabase() ? List.of(targets.phi())
                : List.of(targets.phi(), targets.keyring());
        if (unfinished(targets.phi()) || !targets.sameDatabase() && unfinished(targets.keyring())) {
            // Only a restore makes the marker, on empty databases, and no node has connected since
            // (RestoreGate): everything there was loaded by that restore, which never finished.
            progress.report("an earlier restore of this installation did not finish (its marker is there): "
                    + "removing what it loaded and starting over");
            discard(targets);
        }
        for (DatabaseTarget database : databases) {
            List<String> held = schemasHoldingTables(database);
            if (!held.isEmpty()) {
                throw new BackupRefused(BackupRefused.NOT_EMPTY, "the target installation is not empty (" + held.size()
                        + " schemas hold tables): restore onto a fresh installation with empty databases");
            }
        }
        // Committed before anything is loaded, dropped only once the ledger is applied (finished):
        // the gate stays shut even if this process or its hold session dies in between.
        mark(targets.phi());
        if (!targets.sameDatabase()) {
            mark(targets.keyring()); // nodes' keyring connections are gated too (KeyringStore)
        }
        try {
            // The keyring first: nothing in the PHI database refers to it, and a failure leaves no records behind.
            load(dir, manifest.file(BackupArchive.KEYRING), privateKey, targets.keyring(), progress);
            load(dir, manifest.file(BackupArchive.PHI), privateKey, targets.phi(), progress);
        } catch (RuntimeException e) {
            for (DatabaseTarget database : databases) {
                try {
                    drop(database);
                } catch (RuntimeException cleanupFailed) {
                    e.addSuppressed(cleanupFailed);
                }
            }
            throw e;
        }
    }

    /**
     * A restore's hold on its target: {@link RestoreGate#LOCK} held exclusively on the PHI database
     * by a session of its own, so that no node gets a PHI connection (RestoreGate) until
     * {@link #close}, after the restored installation applied the ledger. Released also when this
     * process dies (the session ends).
     */
    public static final class Hold implements AutoCloseable {
        private final List<Connection> sessions;

        private Hold(List<Connection> sessions) {
            this.sessions = List.copyOf(sessions);
        }

        @Override
        public void close() {
            for (Connection session : sessions) {
                try (Connection c = session; Statement s = c.createStatement()) {
                    s.execute("select pg_advisory_unlock(" + RestoreGate.LOCK + ")");
                } catch (SQLException e) {
                    // the session ends here either way, and its lock with it
                }
            }
        }
    }

    /**
     * Takes the restore's hold, refusing when another restore holds it, or when any session of the
     * roles the nodes connect as ({@code servingRoles}: the application roles) is connected to
     * either target database: a node is serving it, or would serve what is loaded before the
     * shredding ledger is applied (ADR 0040).
     */
    public static Hold hold(DatabaseTarget.Pair targets, Set<String> servingRoles) {
        if (servingRoles.isEmpty()) {
            // "no session of no role" would pass without checking anything (s7 review finding 8)
            throw new BackupRefused(BackupRefused.UNUSABLE, "neither carapace.db.username nor carapace.keyring.username "
                    + "is set: the restore cannot tell whether a node is connected; nothing was loaded");
        }
        List<Connection> sessions = new ArrayList<>();
        try {
            // The keyring database too when it is a database of its own: nodes' keyring pools are gated as well.
            List<DatabaseTarget> databases = targets.sameDatabase() ? List.of(targets.phi())
                    : List.of(targets.phi(), targets.keyring());
            for (DatabaseTarget database : databases) {
                Connection session = connect(database);
                sessions.add(session);
                try (Statement s = session.createStatement();
                        ResultSet rs = s.executeQuery("select pg_try_advisory_lock(" + RestoreGate.LOCK + ")")) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        throw new BackupRefused(BackupRefused.IN_USE, "another restore is working on " + database
                                + ": wait for it to end");
                    }
                }
                refuseWhileServed(session, database, servingRoles);
            }
            return new Hold(sessions);
        } catch (SQLException e) {
            sessions.forEach(BackupLoader::closeQuietly);
            throw unreachable(targets.phi(), e);
        } catch (RuntimeException e) {
            sessions.forEach(BackupLoader::closeQuietly);
            throw e;
        }
    }

    private static void refuseWhileServed(Connection session, DatabaseTarget target, Set<String> servingRoles)
            throws SQLException {
        // pid, datname and usename of every session are visible to every role (the rest needs
        // pg_read_all_stats): enough to see a node's pool connected as the application role.
        try (PreparedStatement s = session.prepareStatement("select count(*) from pg_stat_activity "
                + "where datname = current_database() and pid <> pg_backend_pid() and usename = any(?)")) {
            s.setArray(1, session.createArrayOf("text", servingRoles.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                int sessions = rs.getInt(1);
                if (sessions > 0) {
                    throw new BackupRefused(BackupRefused.IN_USE, sessions + " session(s) of the installation's "
                            + "application roles are connected to " + target + ": a Carapace node is using it; stop "
                            + "every node before restoring (nothing was loaded)");
                }
            }
        }
    }

    private static void closeQuietly(Connection connection) {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // nothing was held yet
            }
        }
    }

    /** Whether {@code target} carries the marker of a restore that has not finished (RestoreGate). */
    public static boolean unfinished(DatabaseTarget target) {
        try (Connection c = connect(target); PreparedStatement s = c.prepareStatement("select count(*) from "
                + "pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace "
                + "where n.nspname = ? and c.relname = ?")) {
            s.setString(1, RestoreGate.MARKER_SCHEMA);
            s.setString(2, RestoreGate.MARKER_TABLE);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getInt(1) > 0;
            }
        } catch (SQLException e) {
            throw unreachable(target, e);
        }
    }

    /** Puts the unfinished-restore marker on {@code target} (committed): no node connects until {@link #finished}. */
    public static void mark(DatabaseTarget target) {
        try (Connection c = connect(target); Statement s = c.createStatement()) {
            s.execute("create schema " + RestoreGate.MARKER_SCHEMA);
            s.execute("create table " + RestoreGate.MARKER_SCHEMA + "." + RestoreGate.MARKER_TABLE
                    + " (started_at timestamptz not null default now())");
            s.execute("insert into " + RestoreGate.MARKER_SCHEMA + "." + RestoreGate.MARKER_TABLE + " default values");
        } catch (SQLException e) {
            throw unreachable(target, e);
        }
    }

    /**
     * Removes the marker: called only once the restored installation has applied the shredding
     * ledger (Backups#finishRestore returned). From then on nodes may connect.
     */
    public static void finished(DatabaseTarget.Pair targets) {
        // The keyring's marker first: while the PHI database's stays, nothing serves either way.
        List<DatabaseTarget> databases = targets.sameDatabase() ? List.of(targets.phi())
                : List.of(targets.keyring(), targets.phi());
        for (DatabaseTarget database : databases) {
            try (Connection c = connect(database); Statement s = c.createStatement()) {
                s.execute("drop schema if exists " + RestoreGate.MARKER_SCHEMA + " cascade");
            } catch (SQLException e) {
                throw unreachable(database, e);
            }
        }
    }

    /** Drops what a restore loaded (every schema of both databases): a restore that did not finish leaves nothing. */
    public static void discard(DatabaseTarget.Pair targets) {
        drop(targets.phi());
        if (!targets.sameDatabase()) {
            drop(targets.keyring());
        }
    }

    private static void load(Path dir, BackupArchive.FileEntry entry, KeysetHandle privateKey, DatabaseTarget target,
            Progress progress) {
        progress.report(entry.database() + ": loading " + entry.name() + " (" + entry.tables() + " tables, "
                + (entry.sqlBytes() >> 20) + " MiB of SQL)");
        try (InputStream sql = BackupArchive.opening(dir.resolve(entry.name()), privateKey)) {
            PostgresTools.load(target, sql, entry.sqlBytes(), entry.database(), progress);
        } catch (IOException e) {
            throw new BackupRefused(BackupRefused.FAILED, entry.name() + " cannot be read");
        }
    }

    /** Non-system schemas of {@code target} that hold at least one table. */
    public static List<String> schemasHoldingTables(DatabaseTarget target) {
        List<String> schemas = new ArrayList<>();
        try (Connection c = connect(target); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select distinct schemaname::text from pg_tables "
                        + "where schemaname not in ('pg_catalog', 'information_schema') order by 1")) {
            while (rs.next()) {
                schemas.add(rs.getString(1));
            }
        } catch (SQLException e) {
            throw unreachable(target, e);
        }
        return schemas;
    }

    /** Drops every schema but the system ones (and the tables of {@code public}). */
    private static void drop(DatabaseTarget target) {
        try (Connection c = connect(target); Statement s = c.createStatement()) {
            LinkedHashSet<String> schemas = new LinkedHashSet<>();
            try (ResultSet rs = s.executeQuery("select nspname::text from pg_namespace where nspname not like 'pg\\_%' "
                    + "and nspname not in ('information_schema', 'public')")) {
                while (rs.next()) {
                    schemas.add(rs.getString(1));
                }
            }
            List<String> publicTables = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("select tablename::text from pg_tables where schemaname = 'public'")) {
                while (rs.next()) {
                    publicTables.add(rs.getString(1));
                }
            }
            for (String schema : schemas) {
                s.execute("drop schema " + quote(schema) + " cascade");
            }
            for (String table : publicTables) {
                s.execute("drop table if exists public." + quote(table) + " cascade");
            }
        } catch (SQLException e) {
            throw unreachable(target, e);
        }
    }

    private static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    static Connection connect(DatabaseTarget target) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", target.user());
        properties.setProperty("password", target.password());
        properties.setProperty("ApplicationName", "carapace-backup");
        return DriverManager.getConnection(target.jdbcUrl(), properties);
    }

    static BackupRefused unreachable(DatabaseTarget target, SQLException e) {
        return new BackupRefused(BackupRefused.FAILED, "the database " + target + " cannot be used (SQLSTATE "
                + e.getSQLState() + ")");
    }
}
