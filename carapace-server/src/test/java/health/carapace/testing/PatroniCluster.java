package health.carapace.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;

/**
 * PostgreSQL high availability as hospitals run it: a Patroni cluster (Debian's {@code patroni})
 * keeping its leader lock in etcd (Debian's {@code etcd-server}), over streaming replication
 * with synchronous replication on ({@code synchronous_mode}: a commit is acknowledged only once
 * the synchronous standby has it, and only that standby may be promoted). Everything runs from
 * Debian's binaries in a temporary directory on free ports of the loopback address; PostgreSQL
 * refuses to run as root, so under root Patroni runs as the {@code postgres} user. Under
 * {@code CI=true} missing packages fail the test; elsewhere it is skipped.
 *
 * <p>Timings are the test's, shorter than Patroni's defaults (leader lock TTL 30 s, loop 10 s):
 * the lock lives {@link #LEADER_TTL}, each node looks every second. docs/SCALING.md has both.
 */
public final class PatroniCluster implements AutoCloseable {

    /** How long the leader lock outlives its holder's last renewal (Patroni's {@code ttl}). */
    public static final Duration LEADER_TTL = Duration.ofSeconds(10);

    private static final Path PATRONI = Path.of("/usr/bin/patroni");
    private static final Path ETCD = Path.of("/usr/bin/etcd");
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    /** One Patroni-managed PostgreSQL. */
    public record Node(String name, int postgresPort, int restPort, Path dataDir, Process patroni) {}

    private final Path dir;
    private final Path pgBin;
    private final Process etcd;
    private final List<Node> nodes;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private PatroniCluster(Path dir, Path pgBin, Process etcd, List<Node> nodes) {
        this.dir = dir;
        this.pgBin = pgBin;
        this.etcd = etcd;
        this.nodes = nodes;
    }

    /**
     * Starts etcd and {@code size} Patroni nodes; returns once one of them leads and another is
     * its synchronous standby, with the application roles of {@code roles} created on the leader
     * (and so replicated).
     */
    public static PatroniCluster start(int size, List<String> roles) throws Exception {
        Path pgBin = requirements();
        Path dir = Files.createTempDirectory("carapace-patroni-");
        giveToPostgres(dir); // created 0700: PostgreSQL's user must reach the nodes' directories under it
        int etcdClient = HaproxyBalancer.freePort();
        int etcdPeer = HaproxyBalancer.freePort();
        Process etcd = new ProcessBuilder(ETCD.toString(), "--name", "carapace-ha",
                "--data-dir", dir.resolve("etcd").toString(),
                "--listen-client-urls", "http://127.0.0.1:" + etcdClient,
                "--advertise-client-urls", "http://127.0.0.1:" + etcdClient,
                "--listen-peer-urls", "http://127.0.0.1:" + etcdPeer,
                "--initial-advertise-peer-urls", "http://127.0.0.1:" + etcdPeer,
                "--initial-cluster", "carapace-ha=http://127.0.0.1:" + etcdPeer)
                .redirectErrorStream(true).redirectOutput(dir.resolve("etcd.log").toFile()).start();
        List<Node> nodes = new ArrayList<>();
        PatroniCluster cluster = new PatroniCluster(dir, pgBin, etcd, nodes);
        try {
            cluster.awaitHttp("etcd", "http://127.0.0.1:" + etcdClient + "/health", etcd, dir.resolve("etcd.log"));
            Path nodesDir = Files.createDirectories(dir.resolve("nodes"));
            giveToPostgres(nodesDir);
            for (int i = 1; i <= size; i++) {
                nodes.add(cluster.startNode("node" + i, nodesDir, etcdClient));
                if (i == 1) {
                    // the first node bootstraps (initdb) alone; the others then copy it (pg_basebackup)
                    cluster.awaitLeader(Duration.ofSeconds(60));
                }
            }
            cluster.awaitSynchronousStandby(Duration.ofSeconds(60));
            cluster.createRoles(roles);
            return cluster;
        } catch (Exception | AssertionError e) {
            cluster.close();
            throw e;
        }
    }

    /** Debian's PostgreSQL binaries, Patroni and etcd; skipped (failed under CI) without them. */
    private static Path requirements() throws IOException {
        Optional<Path> pgBin = Optional.empty();
        Path root = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(root)) {
            try (var versions = Files.list(root)) {
                pgBin = versions.map(version -> version.resolve("bin")).filter(bin -> Files.isExecutable(bin.resolve("postgres")))
                        .max((a, b) -> Integer.compare(major(a), major(b)));
            }
        }
        List<String> missing = new ArrayList<>();
        if (pgBin.isEmpty()) {
            missing.add("postgresql");
        }
        if (!Files.isExecutable(PATRONI)) {
            missing.add("patroni");
        }
        if (!Files.isExecutable(ETCD)) {
            missing.add("etcd-server");
        }
        if (!missing.isEmpty()) {
            String message = "not installed: " + String.join(", ", missing) + " (apt-get install " + String.join(" ", missing) + ")";
            if ("true".equals(System.getenv("CI"))) {
                throw new IllegalStateException(message);
            }
            Assumptions.abort(message);
        }
        return pgBin.get();
    }

    private static int major(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private Node startNode(String name, Path nodesDir, int etcdClient) throws Exception {
        int postgresPort = HaproxyBalancer.freePort();
        int restPort = HaproxyBalancer.freePort();
        Path nodeDir = Files.createDirectories(nodesDir.resolve(name));
        Path dataDir = nodeDir.resolve("data");
        // Trust on the loopback address only: a throwaway test cluster. Production uses scram and TLS.
        String config = """
                scope: carapace-ha
                name: %1$s
                restapi:
                  listen: 127.0.0.1:%2$d
                  connect_address: 127.0.0.1:%2$d
                etcd3:
                  hosts: 127.0.0.1:%3$d
                bootstrap:
                  dcs:
                    ttl: %4$d
                    loop_wait: 1
                    retry_timeout: 3
                    synchronous_mode: true
                    postgresql:
                      use_pg_rewind: false
                      use_slots: true
                      parameters:
                        synchronous_commit: "on"
                        fsync: "on"
                        full_page_writes: "on"
                        wal_level: replica
                        hot_standby: "on"
                        max_connections: 200
                        max_wal_senders: 5
                        max_replication_slots: 5
                        wal_keep_size: 128MB
                  initdb:
                    - encoding: UTF8
                    - no-locale
                    - data-checksums
                  pg_hba:
                    - local all all trust
                    - host replication replicator 127.0.0.1/32 trust
                    - host all all 127.0.0.1/32 trust
                postgresql:
                  listen: 127.0.0.1:%5$d
                  connect_address: 127.0.0.1:%5$d
                  data_dir: %6$s
                  bin_dir: %7$s
                  pgpass: %8$s
                  authentication:
                    superuser:
                      username: postgres
                      password: postgres
                    replication:
                      username: replicator
                      password: replicator
                  parameters:
                    unix_socket_directories: '%9$s'
                tags:
                  nofailover: false
                  noloadbalance: false
                """.formatted(name, restPort, etcdClient, LEADER_TTL.toSeconds(), postgresPort, dataDir, pgBin,
                nodeDir.resolve("pgpass"), nodeDir);
        Path configFile = nodeDir.resolve("patroni.yml");
        Files.writeString(configFile, config);
        giveToPostgres(nodeDir);
        giveToPostgres(configFile);
        List<String> command = new ArrayList<>(asPostgres());
        command.add(PATRONI.toString());
        command.add(configFile.toString());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(nodeDir.resolve("patroni.log").toFile());
        builder.environment().put("HOME", nodeDir.toString());
        return new Node(name, postgresPort, restPort, dataDir, builder.start());
    }

    /** Under root: run as {@code postgres} (setpriv execs, so the process is Patroni itself and a kill reaches it). */
    private static List<String> asPostgres() {
        if (!isRoot()) {
            return List.of();
        }
        return List.of(SETPRIV.toString(), "--reuid=postgres", "--regid=postgres", "--init-groups", "--");
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void giveToPostgres(Path path) throws IOException {
        if (isRoot()) {
            UserPrincipal postgres = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
            Files.setOwner(path, postgres);
        }
    }

    /** Everything of the cluster on disk: data directories (WAL included), logs, etcd's data. */
    public Path directory() {
        return dir;
    }

    /** The multi-host JDBC URL a node of Carapace uses: every member, the primary wherever it is. */
    public String jdbcUrl() {
        return "jdbc:postgresql://" + nodes.stream().map(node -> "127.0.0.1:" + node.postgresPort())
                .collect(Collectors.joining(",")) + "/postgres?targetServerType=primary";
    }

    /** The node holding the leader lock, once one does (Patroni's {@code GET /primary} answers 200 there). */
    public Node awaitLeader(Duration within) {
        return Awaitility.await("a Patroni leader").atMost(within).pollInterval(Duration.ofMillis(200))
                .until(this::leader, Optional::isPresent).get();
    }

    public Optional<Node> leader() {
        return nodes.stream().filter(node -> node.patroni().isAlive() && answers200(node, "/primary")).findFirst();
    }

    /** Waits until a running standby is the synchronous one ({@code GET /synchronous} answers 200 there). */
    public Node awaitSynchronousStandby(Duration within) {
        return Awaitility.await("a synchronous standby").atMost(within).pollInterval(Duration.ofMillis(200))
                .until(() -> nodes.stream().filter(node -> node.patroni().isAlive() && answers200(node, "/synchronous"))
                        .findFirst(), Optional::isPresent).get();
    }

    /**
     * The machine of {@code node} lost: its Patroni killed ({@code kill -9}, so it neither renews
     * nor releases the leader lock) and its PostgreSQL stopped in immediate mode (no checkpoint,
     * every connection dropped), as a crash would.
     */
    public void stopImmediately(Node node) throws Exception {
        node.patroni().destroyForcibly();
        node.patroni().waitFor(10, TimeUnit.SECONDS);
        List<String> command = new ArrayList<>(asPostgres());
        command.addAll(List.of(pgBin.resolve("pg_ctl").toString(), "stop", "-m", "immediate", "-w", "-D",
                node.dataDir().toString()));
        Process stop = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("pg_ctl-stop.log").toFile()).start();
        if (!stop.waitFor(30, TimeUnit.SECONDS) || stop.exitValue() != 0) {
            throw new IllegalStateException("pg_ctl stop failed: " + Files.readString(dir.resolve("pg_ctl-stop.log")));
        }
    }

    /** A superuser connection to {@code node} (the test's own checks). */
    public Connection connect(Node node) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + node.postgresPort() + "/postgres", "postgres", "");
    }

    private void createRoles(List<String> roles) throws SQLException {
        Node leader = awaitLeader(Duration.ofSeconds(30));
        try (Connection connection = connect(leader); var statement = connection.createStatement()) {
            for (String role : roles) {
                statement.execute("create role " + role + " login");
            }
        }
    }

    private boolean answers200(Node node, String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.restPort() + path))
                    .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void awaitHttp(String what, String url, Process process, Path log) {
        Awaitility.await(what).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
            if (!process.isAlive()) {
                throw new IllegalStateException(what + " exited: " + Files.readString(log, StandardCharsets.UTF_8));
            }
            try {
                return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).GET().build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (IOException notYet) {
                return false;
            }
        });
    }

    /** The logs of etcd and every node, for a failure message. */
    public String logs() {
        StringBuilder text = new StringBuilder();
        try (var files = Files.walk(dir)) {
            for (Path log : files.filter(path -> path.toString().endsWith(".log")).toList()) {
                String content = Files.readString(log, StandardCharsets.UTF_8);
                text.append("== ").append(dir.relativize(log)).append('\n')
                        .append(content, Math.max(0, content.length() - 4000), content.length()).append('\n');
            }
        } catch (IOException e) {
            text.append("(logs unreadable: ").append(e.getClass().getSimpleName()).append(')');
        }
        return text.toString();
    }

    @Override
    public void close() throws Exception {
        for (Node node : nodes) {
            // Patroni stops its PostgreSQL on SIGTERM (fast mode)
            node.patroni().destroy();
        }
        for (Node node : nodes) {
            if (!node.patroni().waitFor(30, TimeUnit.SECONDS)) {
                node.patroni().destroyForcibly();
            }
            // a PostgreSQL left behind by a killed Patroni
            List<String> command = new ArrayList<>(asPostgres());
            command.addAll(List.of(pgBin.resolve("pg_ctl").toString(), "stop", "-m", "immediate", "-D", node.dataDir().toString()));
            new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                    .waitFor(30, TimeUnit.SECONDS);
        }
        etcd.destroy();
        etcd.waitFor(10, TimeUnit.SECONDS);
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }
}
