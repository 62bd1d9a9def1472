package health.carapace.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.CarapaceApplication;
import health.carapace.audit.AuditVerifier;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.PatroniCluster;
import health.carapace.testing.PhiScanner;
import health.carapace.testing.TestInstallation;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Issue 21 item 9: PostgreSQL high availability as hospitals run it. A Patroni cluster of three
 * (etcd for the leader lock, streaming replication, synchronous mode: one synchronous standby, one
 * asynchronous; three so that a synchronous standby remains after the loss) holds both of Carapace's
 * databases (PHI and keyring: one cluster, two roles); a Carapace node reaches it through one
 * multi-host JDBC URL with {@code targetServerType=primary}. Under write and read load the
 * primary's machine is lost ({@code kill -9} of its Patroni, PostgreSQL stopped in immediate
 * mode); Patroni promotes the synchronous standby once the leader lock expires, and the node must
 * serve again by itself, with every acknowledged write still there, every refusal meanwhile a 503
 * OperationOutcome, readiness down during the switch and up again only once the new primary has a
 * synchronous standby (ADR 0040: readiness requires commits that wait for one), every successful read audited and the audit
 * tree whole; nothing the clients sent is in clear in the cluster's files. The times are printed
 * ({@code patroni failover: ...}) and recorded in docs/SCALING.md.
 */
class PatroniFailoverTest {

    private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*\"([0-9a-f-]{36})\"");
    /** The leader lock's TTL, Patroni's loop, the promotion and the pools' reconnection, with room for a loaded machine. */
    private static final Duration SERVE_AGAIN_WITHIN = PatroniCluster.LEADER_TTL.plus(Duration.ofSeconds(50));

    private static PatroniCluster cluster;
    private static ConfigurableApplicationContext node;
    private static Path installation;
    private static HttpClient http;
    private static URI base;
    private static String token;

    /** A create the node answered 201: the client's own log, read back after the failover. */
    record Acknowledged(String id, String marker, long atNanos) {}

    /** A response that was not a success, kept whole for the assertion message. */
    record Refusal(String what, int status, boolean operationOutcome) {}

    @BeforeAll
    static void startTheClusterAndANodeOnIt() throws Exception {
        cluster = PatroniCluster.start(3, List.of(DevDatabase.PHI_ROLE, DevDatabase.KEYRING_ROLE));
        installation = Files.createTempDirectory("carapace-ha-node-");
        Map<String, Object> properties = new HashMap<>(TestInstallation.properties());
        String url = cluster.jdbcUrl();
        properties.put("carapace.db.url", url);
        properties.put("carapace.keyring.url", url);
        // the cluster's keyring is empty: a KEK of its own, not the shared installation's
        properties.put("carapace.kek.dev-keystore.path", installation.resolve("keys").toString());
        properties.put("carapace.audit.witness-dir", installation.resolve("audit-witness").toString());
        properties.put("carapace.export.directory", installation.resolve("exports").toString());
        properties.put("server.port", "0");
        properties.put("carapace.db.pool-size", "6");
        // refused quickly while no primary answers (the default, 30 s, would outlast the switch)
        properties.put("carapace.db.connection-wait", "PT5S");
        properties.put("carapace.health.probe-timeout", "PT1S");
        node = new SpringApplicationBuilder(CarapaceApplication.class).run(properties.entrySet().stream()
                .map(property -> "--" + property.getKey() + "=" + property.getValue()).toArray(String[]::new));
        http = HttpClient.newBuilder().sslContext(TestInstallation.trustingSslContext(TestInstallation.dataDir()))
                .connectTimeout(Duration.ofSeconds(5)).build();
        base = URI.create("https://localhost:" + node.getEnvironment().getProperty("local.server.port"));
        ServiceClients.Credentials client = node.getBean(ServiceClients.class).create("ha-load", Set.of("records-service"));
        token = token(client);
    }

    @AfterAll
    static void stop() throws Exception {
        if (node != null) {
            node.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        if (installation != null) {
            org.springframework.util.FileSystemUtils.deleteRecursively(installation);
        }
    }

    @Test
    void thePrimaryLostUnderLoadLosesNoAcknowledgedWriteAndTheNodeServesTheNewPrimaryByItself() throws Exception {
        PatroniCluster.Node primary = cluster.leader().orElseThrow();
        ConcurrentLinkedQueue<Acknowledged> acknowledged = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> servedReads = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Refusal> refusals = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<long[]> readiness = new ConcurrentLinkedQueue<>();
        AtomicBoolean loading = new AtomicBoolean(true);
        ExecutorService load = Executors.newFixedThreadPool(2);
        for (int client = 0; client < 2; client++) {
            load.submit(() -> writeAndRead(loading, acknowledged, servedReads, refusals));
        }
        // a load balancer's check: /health/ready every 100 ms
        ScheduledExecutorService balancer = Executors.newSingleThreadScheduledExecutor();
        balancer.scheduleWithFixedDelay(() -> probeReadiness(readiness), 0, 100, TimeUnit.MILLISECONDS);
        long stoppedAt;
        try {
            await("writes acknowledged before the loss").atMost(Duration.ofSeconds(60)).until(() -> acknowledged.size() >= 20);
            cluster.stopImmediately(primary);
            // from here no primary answers (pg_ctl waited for the stop); writes acknowledged while
            // Patroni was being killed and PostgreSQL stopped are checked like every other
            stoppedAt = System.nanoTime();
            await("an acknowledged write after the loss").atMost(SERVE_AGAIN_WITHIN).pollInterval(Duration.ofMillis(50))
                    .until(() -> acknowledged.stream().anyMatch(write -> write.atNanos() > stoppedAt));
            long servedAgainAt = acknowledged.stream().mapToLong(Acknowledged::atNanos).filter(at -> at > stoppedAt).min()
                    .orElseThrow();
            int beforeMore = acknowledged.size();
            await("load served again").atMost(Duration.ofSeconds(30)).until(() -> acknowledged.size() >= beforeMore + 20);
            // Readiness also waits for the new primary's synchronous standby (Patroni names it a few
            // seconds after the promotion), which can come after the first writes are served again.
            await("ready again").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> readiness.stream().anyMatch(probe -> probe[0] > stoppedAt && probe[1] == 503)
                            && readiness.stream().filter(probe -> probe[1] == 200).mapToLong(probe -> probe[0])
                                    .anyMatch(at -> at > readiness.stream().filter(p -> p[0] > stoppedAt && p[1] == 503)
                                            .mapToLong(p -> p[0]).min().orElse(Long.MAX_VALUE)));
            loading.set(false);
            load.shutdown();
            balancer.shutdown();
            assertThat(load.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
            assertThat(balancer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

            PatroniCluster.Node promoted = cluster.leader().orElseThrow();
            assertThat(promoted.name()).as("the standby was promoted").isNotEqualTo(primary.name());
            // probes answered in order: the first DOWN after the loss, then the first UP after that
            long notReadyAt = readiness.stream().filter(probe -> probe[0] > stoppedAt && probe[1] == 503)
                    .mapToLong(probe -> probe[0]).min().orElseThrow(() -> new AssertionError("never not ready after the loss"));
            long readyAgainAt = readiness.stream().filter(probe -> probe[0] > notReadyAt && probe[1] == 200)
                    .mapToLong(probe -> probe[0]).min().orElseThrow(() -> new AssertionError("never ready again"));
            System.out.printf("patroni failover: primary stopped -> /health/ready 503 after %d ms, first acknowledged write "
                            + "after %d ms, /health/ready 200 again after %d ms; %d writes acknowledged, %d reads served, "
                            + "%d refused meanwhile %s%n",
                    (notReadyAt - stoppedAt) / 1_000_000, (servedAgainAt - stoppedAt) / 1_000_000,
                    (readyAgainAt - stoppedAt) / 1_000_000, acknowledged.size(), servedReads.size(), refusals.size(),
                    refusals.stream().map(Refusal::status).distinct().toList());

            // Seconds without a primary and a connection wait of 5 s: requests were refused, and each refusal is checked.
            assertThat(refusals).as("requests refused while no primary answered").isNotEmpty();
            assertThat(refusals).as("every refusal during the switch is a 503 OperationOutcome")
                    .allMatch(refusal -> refusal.status() == 503 && refusal.operationOutcome());
            assertThat(readiness).as("ready before the loss: the cluster commits synchronously")
                    .anyMatch(probe -> probe[0] < stoppedAt && probe[1] == 200);
            assertThat(readiness).as("readiness answers only UP or DOWN").allMatch(probe -> probe[1] == 200 || probe[1] == 503);

            for (Acknowledged write : acknowledged) {
                HttpResponse<String> read = send(HttpRequest.newBuilder(base.resolve("/fhir/Patient/" + write.id())).GET());
                assertThat(read.statusCode()).as("acknowledged write %s read back", write.id()).isEqualTo(200);
                assertThat(read.body()).as("acknowledged write %s holds what was sent", write.id()).contains(write.marker());
            }
            try (Connection db = cluster.connect(promoted)) {
                for (String requestId : servedReads) {
                    assertThat(count(db, "select count(*) from audit.event where convert_from(body, 'UTF8')::jsonb ->> 'request_id' = ?",
                            requestId)).as("audit event of served read %s", requestId).isPositive();
                }
                await("every event sealed").atMost(Duration.ofSeconds(30)).until(() ->
                        count(db, "select count(*) from audit.event e where not exists "
                                + "(select 1 from audit.leaf l where l.event_id = e.id)") == 0);
                assertThat(count(db, "select count(*) from (select event_id from audit.leaf group by event_id "
                        + "having count(*) > 1) duplicated")).as("events in more than one leaf").isZero();
                assertThat(count(db, "select coalesce(max(leaf_index) + 1, 0) - count(*) from audit.leaf"))
                        .as("gaps in the leaf indexes").isZero();
            }
            var report = node.getBean(AuditVerifier.class).verify();
            assertThat(report.ok()).as("audit verification: %s", report.firstProblem()).isTrue();

            // the canary: what the clients sent is nowhere in clear — not in either member's data
            // directory or WAL (the standby's copy included), the cluster's logs, nor the node's files and logs
            List<String> markers = acknowledged.stream().map(Acknowledged::marker).toList();
            assertThat(PhiScanner.inFiles(cluster.directory(), markers)).as("PHI in clear in the cluster's files").isEmpty();
            assertThat(PhiScanner.inFiles(installation, markers)).as("PHI in clear in the node's files").isEmpty();
            java.nio.file.Path logs = TestInstallation.dataDir().resolve("logs"); // absent until a test JVM logs to it
            if (java.nio.file.Files.isDirectory(logs)) {
                assertThat(PhiScanner.inFiles(logs, markers)).as("PHI in the logs").isEmpty();
            }
        } catch (Exception | AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + cluster.logs(), e);
        } finally {
            loading.set(false);
            load.shutdownNow();
            balancer.shutdownNow();
        }
    }

    /** One load client: creates a Patient carrying a unique marker, then reads one it created. */
    private static void writeAndRead(AtomicBoolean loading, ConcurrentLinkedQueue<Acknowledged> acknowledged,
            ConcurrentLinkedQueue<String> servedReads, ConcurrentLinkedQueue<Refusal> refusals) {
        List<Acknowledged> mine = new ArrayList<>();
        while (loading.get()) {
            String marker = "Ha" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
            try {
                HttpResponse<String> created = send(HttpRequest.newBuilder(base.resolve("/fhir/Patient"))
                        .header("Content-Type", "application/fhir+json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\""
                                + marker + "\"}],\"gender\":\"unknown\"}")));
                if (created.statusCode() == 201) {
                    Matcher id = ID.matcher(created.body());
                    if (id.find()) {
                        Acknowledged write = new Acknowledged(id.group(1), marker, System.nanoTime());
                        mine.add(write);
                        acknowledged.add(write);
                    }
                } else {
                    refusals.add(refusal("create", created));
                }
                if (!mine.isEmpty()) {
                    Acknowledged earlier = mine.get(ThreadLocalRandom.current().nextInt(mine.size()));
                    HttpResponse<String> read = send(HttpRequest.newBuilder(base.resolve("/fhir/Patient/" + earlier.id())).GET());
                    if (read.statusCode() == 200) {
                        read.headers().firstValue("X-Request-Id").ifPresent(servedReads::add);
                    } else {
                        refusals.add(refusal("read", read));
                    }
                }
            } catch (RuntimeException e) {
                // the node itself never goes away here: a failed exchange is a finding
                refusals.add(new Refusal("exchange failed: " + e.getClass().getSimpleName(), -1, false));
            }
        }
    }

    private static Refusal refusal(String what, HttpResponse<String> response) {
        return new Refusal(what, response.statusCode(), response.body().contains("\"resourceType\":\"OperationOutcome\""));
    }

    /** One readiness probe as a load balancer sends it: (time, status), -1 when no answer came. */
    private static void probeReadiness(ConcurrentLinkedQueue<long[]> readiness) {
        try {
            int status = http.send(HttpRequest.newBuilder(base.resolve("/health/ready")).timeout(Duration.ofSeconds(10))
                    .GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
            readiness.add(new long[] {System.nanoTime(), status});
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.io.IOException e) {
            readiness.add(new long[] {System.nanoTime(), -1});
        }
    }

    private static long count(Connection db, String sql, String... parameters) throws SQLException {
        try (PreparedStatement statement = db.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                statement.setString(i + 1, parameters[i]);
            }
            try (ResultSet result = statement.executeQuery()) {
                result.next();
                return result.getLong(1);
            }
        }
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return http.send(request.header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(60)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String token(ServiceClients.Credentials client) throws Exception {
        String basic = Base64.getEncoder().encodeToString(
                (client.clientId() + ":" + client.clientSecret()).getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(base.resolve("/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher token = Pattern.compile("\"access_token\":\"([^\"]+)\"").matcher(response.body());
        assertThat(token.find()).as("token response %s", response.statusCode()).isTrue();
        return token.group(1);
    }
}
