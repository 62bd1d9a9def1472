package health.carapace.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.postgresql.PGConnection;

/**
 * Looks for canary strings where PHI must never be: log output, a dump of the whole database,
 * and every file under a directory. Returns where each canary was found, so a failure says where.
 */
public final class PhiScanner {

    private PhiScanner() {
    }

    public static List<String> inText(String where, String text, List<String> canaries) {
        List<String> found = new ArrayList<>();
        for (String canary : canaries) {
            if (text.contains(canary)) {
                found.add(canary + " in " + where);
            }
        }
        return found;
    }

    /** Every file below {@code dir}, read as bytes and searched for each canary's UTF-8 bytes. */
    public static List<String> inFiles(Path dir, List<String> canaries) {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                byte[] content;
                try {
                    content = Files.readAllBytes(file);
                } catch (IOException unreadable) {
                    continue; // sockets, files removed while walking
                }
                String asLatin1 = new String(content, StandardCharsets.ISO_8859_1);
                for (String canary : canaries) {
                    if (asLatin1.contains(new String(canary.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1))) {
                        found.add(canary + " in file " + file);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }

    /** {@code pg_dump} of the whole database, as PostgreSQL's own tool writes it. */
    public static String pgDump(int port) {
        try {
            Process process = new ProcessBuilder("pg_dump", "-h", "localhost", "-p", Integer.toString(port),
                    "-U", "postgres", "-d", "postgres", "--no-password")
                    .redirectErrorStream(true)
                    .start();
            byte[] out = process.getInputStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException("pg_dump failed: " + new String(out, StandardCharsets.UTF_8));
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("pg_dump is needed (Debian package postgresql-client)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static boolean pgDumpAvailable() {
        try {
            return new ProcessBuilder("pg_dump", "--version").start().waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Every row of every table in every schema, through COPY as text (bytea as hex): the same
     * data a pg_dump holds, without needing the client tools.
     */
    public static String copyDump(int port) {
        StringBuilder dump = new StringBuilder();
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://localhost:" + port + "/postgres", "postgres", "");
                Statement s = c.createStatement();
                ResultSet tables = s.executeQuery("select table_schema, table_name from information_schema.tables "
                        + "where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')")) {
            List<String> names = new ArrayList<>();
            while (tables.next()) {
                names.add('"' + tables.getString(1) + "\".\"" + tables.getString(2) + '"');
            }
            var copy = c.unwrap(PGConnection.class).getCopyAPI();
            for (String table : names) {
                var out = new java.io.ByteArrayOutputStream();
                copy.copyOut("COPY " + table + " TO STDOUT", out);
                dump.append("-- ").append(table).append('\n').append(out.toString(StandardCharsets.UTF_8));
            }
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("cannot dump the database", e);
        }
        return dump.toString();
    }
}
