package health.carapace.backup;

import com.google.crypto.tink.KeysetHandle;
import health.carapace.backup.internal.PostgresTools;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;

/**
 * The first half of a restore, before any application may start on the databases (its
 * migrations would create the schemas the backup brings): checks that the target installation is
 * empty, then loads the keyring and the PHI database from a verified backup directory, each in one
 * transaction. A load that fails removes what it loaded, so the installation is empty again.
 */
public final class BackupLoader {

    private BackupLoader() {
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
        for (DatabaseTarget database : databases) {
            List<String> held = schemasHoldingTables(database);
            if (!held.isEmpty()) {
                throw new BackupRefused(BackupRefused.NOT_EMPTY, "the target installation is not empty (" + held.size()
                        + " schemas hold tables): restore onto a fresh installation with empty databases");
            }
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
