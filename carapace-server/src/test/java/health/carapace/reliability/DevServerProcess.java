package health.carapace.reliability;

import health.carapace.testing.TestInstallation;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;

/**
 * A {@code carapace start-dev} server in a process of its own, on its own data directory and
 * port, that can be killed the hard way: {@code kill -9} of the Java process, of its embedded
 * PostgreSQL (the postmaster whose pid is in {@code <data>/pg/postmaster.pid}), or of both.
 *
 * <p>It runs the server's main class on the classpath of the build (the test classes left out),
 * so that the test suite needs no packaged jar, and admin commands ({@code audit verify},
 * {@code admin create-client}) the same way: they attach to the PostgreSQL the server started.
 */
final class DevServerProcess implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(300);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(180);

    private final Path dataDir;
    private final int port;
    private final String classpath;
    private Process server;
    private int starts;

    DevServerProcess(Path dataDir, int port) {
        this.dataDir = dataDir.toAbsolutePath().normalize();
        this.port = port;
        this.classpath = serverClasspath();
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    Path dataDir() {
        return dataDir;
    }

    URI base() {
        return URI.create("https://localhost:" + port);
    }

    /** Starts the server and waits until {@code /health} answers 200 (database attached, keys loaded). */
    void start() throws IOException, InterruptedException {
        starts++;
        Path log = dataDir.resolve("server-" + port + "-" + starts + ".log");
        Files.createDirectories(dataDir);
        List<String> command = java(List.of("start-dev", "--data-dir", dataDir.toString(), "--server.port=" + port));
        server = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Process started = server;
        try {
            org.awaitility.Awaitility.await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(250)).until(() -> {
                if (!started.isAlive()) {
                    throw new IllegalStateException("the server exited with " + started.exitValue()
                            + " while starting; see " + log);
                }
                return healthy();
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new IllegalStateException("the server did not become healthy within " + START_TIMEOUT + "; see " + log, e);
        }
    }

    private boolean healthy() {
        if (!Files.exists(dataDir.resolve("tls").resolve("server.p12.password"))) {
            return false;
        }
        try {
            HttpResponse<Void> response = http(Duration.ofSeconds(2)).send(HttpRequest.newBuilder(base().resolve("/health"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
            return response.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (IllegalStateException e) {
            return false; // the certificate is still being written by the starting server
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    HttpClient http(Duration connectTimeout) {
        SSLContext tls = TestInstallation.trustingSslContext(dataDir);
        return HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout).build();
    }

    /** {@code kill -9} of the server's Java process; its PostgreSQL keeps running, orphaned. */
    void killServer() throws InterruptedException {
        if (server != null && server.isAlive()) {
            server.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no flush
            server.waitFor();
        }
    }

    /** The embedded PostgreSQL's postmaster, from its pid file, if it is running. */
    Optional<ProcessHandle> postmaster() {
        Path pidFile = dataDir.resolve("pg").resolve("postmaster.pid");
        try {
            if (!Files.exists(pidFile)) {
                return Optional.empty();
            }
            long pid = Long.parseLong(Files.readAllLines(pidFile, StandardCharsets.US_ASCII).get(0).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * {@code kill -9} of the postmaster. Its backends notice their parent died and exit; waiting
     * for them matters, since a new postmaster refuses to start while they hold shared memory.
     */
    void killDatabase() {
        postmaster().ifPresent(postmaster -> {
            List<ProcessHandle> backends = postmaster.descendants().toList();
            postmaster.destroyForcibly();
            awaitExit(postmaster);
            backends.forEach(DevServerProcess::awaitExit);
        });
    }

    /** {@code kill -9} of the postmaster and the JVM at once; then waits for the backends as above. */
    void killBoth() throws InterruptedException {
        Optional<ProcessHandle> postmaster = postmaster();
        List<ProcessHandle> backends = postmaster.map(p -> p.descendants().toList()).orElse(List.of());
        postmaster.ifPresent(ProcessHandle::destroyForcibly);
        killServer();
        postmaster.ifPresent(DevServerProcess::awaitExit);
        backends.forEach(DevServerProcess::awaitExit);
    }

    private static void awaitExit(ProcessHandle process) {
        try {
            process.onExit().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("process " + process.pid() + " did not exit", e);
        }
    }

    /** Runs a launcher command (e.g. {@code audit verify}) against this data directory. */
    CommandResult run(String... arguments) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(Arrays.asList(arguments));
        args.addAll(List.of("--data-dir", dataDir.toString()));
        Path out = Files.createTempFile(dataDir, "command-", ".out");
        Process process = new ProcessBuilder(java(args)).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("'" + String.join(" ", arguments) + "' did not finish in " + COMMAND_TIMEOUT);
        }
        String output = Files.readString(out);
        Files.delete(out);
        return new CommandResult(process.exitValue(), output);
    }

    record CommandResult(int exitCode, String output) {
    }

    private List<String> java(List<String> arguments) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // small and cheap: the machine's two cores are shared with the test JVM driving the load
        command.addAll(List.of("-Xmx384m", "-XX:TieredStopAtLevel=1", "-Xshare:auto"));
        command.addAll(List.of("-cp", classpath, "health.carapace.Carapace"));
        command.addAll(arguments);
        return command;
    }

    /**
     * The build's classpath without the test classes and resources (surefire passes its real
     * classpath in {@code surefire.test.class.path}; the JVM's own is a manifest-only jar).
     */
    private static String serverClasspath() {
        String full = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return Arrays.stream(full.split(File.pathSeparator))
                .filter(entry -> !entry.replace('\\', '/').endsWith("/test-classes"))
                .collect(Collectors.joining(File.pathSeparator));
    }

    /** Stops the server gently (SIGTERM) and then its PostgreSQL, if either still runs. */
    @Override
    public void close() throws InterruptedException {
        if (server != null && server.isAlive()) {
            server.destroy();
            if (!server.waitFor(60, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor();
            }
        }
        postmaster().ifPresent(postmaster -> {
            postmaster.destroy(); // SIGTERM: PostgreSQL's smart shutdown; no client is left
            try {
                postmaster.onExit().get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                postmaster.destroyForcibly();
            }
        });
    }
}
