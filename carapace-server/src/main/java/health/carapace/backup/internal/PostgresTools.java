package health.carapace.backup.internal;

import health.carapace.backup.BackupRefused;
import health.carapace.backup.DatabaseTarget;
import health.carapace.backup.Progress;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PostgreSQL's own tools, run as child processes: {@code pg_dump} writes the SQL of a snapshot to
 * a stream, {@code psql} loads SQL from a stream in one transaction. Their output is never
 * passed on as it is: progress is built from table names, and an error is reported with every
 * quoted value masked (an error can quote a value of a row).
 */
public final class PostgresTools {

    private static final Pattern DUMPING_TABLE = Pattern.compile("dumping contents of table \"([A-Za-z0-9_.]+)\"");
    private static final Pattern QUOTED = Pattern.compile("\"[^\"]*\"|'[^']*'");
    private static final long REPORT_EVERY = 16L << 20;

    private PostgresTools() {
    }

    /** What a dump wrote: bytes of SQL and the tables whose rows it holds. */
    public record Dumped(long sqlBytes, int tables) {}

    /**
     * Dumps {@code schemaOptions} ({@code --schema=...} / {@code --exclude-schema=...}) of
     * {@code target} as of {@code snapshot} (exported by a transaction that stays open meanwhile).
     */
    public static Dumped dump(DatabaseTarget target, String snapshot, List<String> schemaOptions, OutputStream sink,
            String label, Progress progress) {
        List<String> command = new ArrayList<>(List.of("pg_dump", "--format=plain", "--no-owner", "--verbose",
                "--snapshot=" + snapshot));
        command.addAll(schemaOptions);
        command.add("--dbname=" + target.libpqUri());
        Process process = start(command, target);
        AtomicInteger tables = new AtomicInteger();
        AtomicReference<String> error = new AtomicReference<>();
        CompletableFuture<Void> stderr = CompletableFuture.runAsync(() -> readLines(process.getErrorStream(), line -> {
            Matcher table = DUMPING_TABLE.matcher(line);
            if (table.find()) {
                progress.report(label + ": table " + tables.incrementAndGet() + " " + table.group(1));
            } else if (line.contains("error:") && error.get() == null) {
                error.set(masked(line));
            }
        }));
        long written = 0;
        long nextReport = REPORT_EVERY;
        byte[] buffer = new byte[1 << 16];
        try (InputStream sql = process.getInputStream()) {
            process.getOutputStream().close();
            int n;
            while ((n = sql.read(buffer)) > 0) {
                sink.write(buffer, 0, n);
                written += n;
                if (written >= nextReport) {
                    progress.report(label + ": " + mib(written) + " MiB of SQL written");
                    nextReport += REPORT_EVERY;
                }
            }
        } catch (IOException e) {
            process.destroyForcibly();
            throw new BackupRefused(BackupRefused.FAILED, label + ": the dump could not be written ("
                    + e.getClass().getSimpleName() + ")");
        }
        int exit = waitFor(process);
        stderr.join();
        if (exit != 0) {
            throw new BackupRefused(BackupRefused.FAILED, label + ": pg_dump failed (exit " + exit + ")"
                    + (error.get() == null ? "" : ": " + error.get()));
        }
        progress.report(label + ": " + mib(written) + " MiB of SQL, " + tables.get() + " tables");
        return new Dumped(written, tables.get());
    }

    /**
     * Loads {@code sql} into {@code target} in one transaction ({@code psql --single-transaction},
     * stopping at the first error): a load that fails, or whose input turns out not to
     * authenticate, is rolled back whole.
     */
    public static void load(DatabaseTarget target, InputStream sql, long expectedBytes, String label, Progress progress) {
        // --no-psqlrc: no ~/.psqlrc runs; ON_ERROR_STOP: the first error ends the load. Neither stops a
        // meta-command (\! shell, \copy ... program) in the SQL itself: the control is that only a sealed
        // file verified against the signed manifest, in a private copy no one else can swap, is ever fed here
        // (RestoreCommand, BackupArchive.privateCopy; ADR 0033).
        Process process = start(List.of("psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
                "--single-transaction", "--output=/dev/null", "--file=-", "--dbname=" + target.libpqUri()), target);
        AtomicReference<String> error = new AtomicReference<>();
        CompletableFuture<Void> stderr = CompletableFuture.runAsync(() -> readLines(process.getErrorStream(), line -> {
            if (line.contains("ERROR:") && error.get() == null) {
                error.set(masked(line.substring(line.indexOf("ERROR:"))));
            }
        }));
        CompletableFuture<Void> stdout = CompletableFuture.runAsync(() -> readLines(process.getInputStream(), line -> { }));
        long read = 0;
        long nextReport = REPORT_EVERY;
        byte[] buffer = new byte[1 << 16];
        try (OutputStream in = process.getOutputStream()) {
            int n;
            while (true) {
                try {
                    n = sql.read(buffer);
                } catch (IOException notAuthentic) {
                    // Killed before its input ends: psql never commits, the server rolls the load back.
                    process.destroyForcibly();
                    waitFor(process);
                    throw new BackupRefused(BackupRefused.REFUSED, label + ": the sealed file does not authenticate "
                            + "(altered or truncated); nothing of it was loaded");
                }
                if (n < 0) {
                    break;
                }
                in.write(buffer, 0, n);
                read += n;
                if (read >= nextReport) {
                    progress.report(label + ": " + mib(read) + " of " + mib(expectedBytes) + " MiB of SQL loaded ("
                            + (expectedBytes == 0 ? 100 : read * 100 / expectedBytes) + "%)");
                    nextReport += REPORT_EVERY;
                }
            }
        } catch (IOException psqlStopped) {
            // psql stopped reading: its exit code and error line say why
        }
        int exit = waitFor(process);
        stderr.join();
        stdout.join();
        if (exit != 0) {
            throw new BackupRefused(BackupRefused.FAILED, label + ": psql stopped at an error (exit " + exit
                    + "), nothing of this database was loaded" + (error.get() == null ? "" : ": " + error.get()));
        }
        progress.report(label + ": " + mib(read) + " MiB of SQL loaded");
    }

    private static Process start(List<String> command, DatabaseTarget target) {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(target.environment());
        try {
            return builder.start();
        } catch (IOException e) {
            throw new BackupRefused(BackupRefused.UNUSABLE, command.get(0) + " cannot be run: install PostgreSQL's "
                    + "client tools (Debian: postgresql-client), version 14 or newer, on the PATH");
        }
    }

    private static int waitFor(Process process) {
        try {
            if (!process.waitFor(10, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                return -1;
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static void readLines(InputStream stream, java.util.function.Consumer<String> each) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                each.accept(line);
            }
        } catch (IOException e) {
            // the process ended
        }
    }

    /** An error line with every quoted part masked: the line names the problem, never a value. */
    static String masked(String line) {
        String shortened = line.length() > 300 ? line.substring(0, 300) : line;
        return QUOTED.matcher(shortened).replaceAll("\"…\"");
    }

    private static long mib(long bytes) {
        return bytes >> 20;
    }
}
