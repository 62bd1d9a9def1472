package health.carapace.platform.dev;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;

/**
 * The embedded PostgreSQL of {@code start-dev}: data under {@code <data>/pg}, kept across
 * restarts. zonky's builder turns {@code synchronous_commit} off for speed; Carapace turns it
 * back on (and keeps fsync on), because "acknowledged" must mean "durable".
 *
 * <p>Creates the two application roles the production database would have: {@code carapace_phi}
 * for records and {@code carapace_keyring} for wrapped keys, so the separation is exercised in
 * development too. (Local connections use trust authentication: development only.)
 */
public final class DevDatabase implements AutoCloseable {

    public static final String OWNER = "postgres";
    public static final String PHI_ROLE = "carapace_phi";
    public static final String KEYRING_ROLE = "carapace_keyring";

    private final EmbeddedPostgres postgres;
    private final int port;

    private DevDatabase(EmbeddedPostgres postgres, int port) {
        this.postgres = postgres;
        this.port = port;
    }

    /** Starts PostgreSQL on {@code dir}, creating the cluster on first use. */
    public static DevDatabase start(Path dir) throws IOException {
        Files.createDirectories(dir);
        EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                .setDataDirectory(dir)
                .setCleanDataDirectory(false)
                // Whoever opens the database closes it, after the server that uses it: a hook of the
                // library's own would stop it while the server still flushes (issue 21, item 4).
                .setRegisterShutdownHook(false)
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("fsync", "on")
                .setServerConfig("full_page_writes", "on")
                .setServerConfig("listen_addresses", "localhost")
                // room for two nodes (a PHI pool of 20 and a keyring pool of 12 each) plus the
                // command line and psql; the test suite runs many server contexts on one installation
                .setServerConfig("max_connections", "300")
                .setServerConfig("shared_buffers", sharedBuffersMib(totalMemory()) + "MB")
                .setServerConfig("effective_cache_size", (totalMemory() / 2 / MIB) + "MB")
                .setOutputRedirector(ProcessBuilder.Redirect.DISCARD)
                .setErrorRedirector(ProcessBuilder.Redirect.DISCARD)
                .start();
        DevDatabase db = new DevDatabase(postgres, postgres.getPort());
        db.createRoles();
        return db;
    }

    /**
     * The port of a PostgreSQL already running on {@code dir} (a {@code start-dev} server in
     * another process), read from its {@code postmaster.pid}.
     */
    public static Optional<Integer> runningPort(Path dir) {
        Path pidFile = dir.resolve("postmaster.pid");
        try {
            if (!Files.exists(pidFile)) {
                return Optional.empty();
            }
            List<String> lines = Files.readAllLines(pidFile, StandardCharsets.US_ASCII);
            long pid = Long.parseLong(lines.get(0).trim());
            if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && lines.size() > 3) {
                return Optional.of(Integer.parseInt(lines.get(3).trim()));
            }
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static final long MIB = 1024 * 1024;

    /**
     * PostgreSQL's buffer cache for this machine: a quarter of its memory (PostgreSQL's own
     * guidance for a dedicated server), at least the default 128 MB and at most 8 GB. With the
     * default alone, a database of a million patients read at random went to the operating
     * system's cache for most index pages (issue 13: the read's statement took 88 us instead of
     * ~30 us). Shared memory is mapped, not touched, so a small database costs no more than before.
     */
    public static long sharedBuffersMib(long totalMemory) {
        return Math.max(128, Math.min(8 * 1024, totalMemory / 4 / MIB));
    }

    /** The memory of this machine in bytes (or of its container, when it has a limit). */
    public static long totalMemory() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getTotalMemorySize();
    }

    public static String jdbcUrl(int port) {
        return "jdbc:postgresql://localhost:" + port + "/postgres";
    }

    public int port() {
        return port;
    }

    public String jdbcUrl() {
        return jdbcUrl(port);
    }

    private void createRoles() throws IOException {
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            for (String role : List.of(PHI_ROLE, KEYRING_ROLE)) {
                s.execute("do $$ begin if not exists (select from pg_roles where rolname = '" + role + "') "
                        + "then create role " + role + " login; end if; end $$");
            }
        } catch (SQLException e) {
            throw new IOException("Cannot create the development database roles", e);
        }
    }

    @Override
    public void close() throws IOException {
        postgres.close();
    }
}
