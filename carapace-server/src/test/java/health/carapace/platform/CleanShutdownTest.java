package health.carapace.platform;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.CarapaceCli;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.testing.TestInstallation;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

/**
 * Issue 21, item 4: {@code start-dev} stopped with SIGTERM under load finishes what is in flight,
 * flushes its background writers (the key usage counters above all: they warn before an AES-GCM
 * key nears its safe limit) and only then stops its embedded database. Before, the database
 * library's own shutdown hook stopped PostgreSQL at the same time, and every stop logged "Key
 * usage counters could not be saved" and lost the counts.
 */
class CleanShutdownTest {

    private static final Pattern CREATED = Pattern.compile("/Patient/([0-9a-f-]{36})/_history/(\\d+)");

    @TempDir
    Path dataDir;

    @Test
    void sigtermUnderLoadLosesNoWriteNoAuditEventAndNoKeyUsageCount() throws Exception {
        String[] client = createClient();
        int port = freePort();
        Path log = Files.createTempFile("start-dev-shutdown", ".log");
        Process server = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx384m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), "health.carapace.Carapace", "start-dev",
                "--data-dir=" + dataDir, "--server.port=" + port))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Map<String, Integer> acknowledged = new ConcurrentHashMap<>();
        AtomicBoolean loading = new AtomicBoolean(true);
        ExecutorService load = Executors.newFixedThreadPool(4);
        try {
            HttpClient http = HttpClient.newBuilder()
                    .sslContext(TestInstallation.trustingSslContext(dataDir)).connectTimeout(Duration.ofSeconds(5)).build();
            URI base = URI.create("https://localhost:" + port);
            Awaitility.await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(500))
                    .until(() -> server.isAlive() && Files.readString(log).contains("Call the API"));
            String token = token(http, base, client[0], client[1]);
            for (int i = 0; i < 4; i++) {
                load.submit(() -> {
                    while (loading.get()) {
                        try {
                            HttpResponse<String> created = http.send(HttpRequest.newBuilder(base.resolve("/fhir/Patient"))
                                    .header("Authorization", "Bearer " + token)
                                    .header("Content-Type", "application/fhir+json")
                                    .POST(HttpRequest.BodyPublishers.ofString(
                                            "{\"resourceType\":\"Patient\",\"gender\":\"other\"}"))
                                    .build(), HttpResponse.BodyHandlers.ofString());
                            if (created.statusCode() == 201) {
                                Matcher location = CREATED.matcher(created.headers().firstValue("Location").orElse(""));
                                if (location.find()) {
                                    acknowledged.put(location.group(1), Integer.parseInt(location.group(2)));
                                }
                            }
                        } catch (Exception refusedOrClosed) {
                            // the server is stopping: only acknowledged writes count
                        }
                    }
                    return null;
                });
            }
            Awaitility.await().atMost(Duration.ofMinutes(2)).until(() -> acknowledged.size() >= 20);

            server.destroy(); // SIGTERM, as an operator's stop or a service manager does

            assertThat(server.waitFor(90, TimeUnit.SECONDS)).as("stopped within 90 s").isTrue();
        } finally {
            loading.set(false);
            load.shutdownNow();
            server.destroyForcibly();
        }
        String output = Files.readString(log);
        assertThat(output).doesNotContain("could not be saved").doesNotContain("Failed to validate connection");
        assertThat(DevDatabase.runningPort(dataDir.resolve("pg"))).as("the server stopped its database").isEmpty();

        try (DevEnvironment reopened = DevEnvironment.open(dataDir);
                var connection = DriverManager.getConnection(
                        reopened.properties().get("carapace.db.url").toString(), DevDatabase.OWNER, "")) {
            JdbcClient owner = JdbcClient.create(new SingleConnectionDataSource(connection, true));
            for (var write : acknowledged.entrySet()) {
                assertThat(owner.sql("select count(*) from phi.resource_version where resource_type = 'Patient'"
                                + " and resource_id = ?::uuid and version = ?")
                        .params(write.getKey(), write.getValue()).query(Long.class).single())
                        .as("acknowledged write kept").isEqualTo(1);
                assertThat(owner.sql("select count(*) from audit.event where patient = ?")
                        .param("Patient/" + write.getKey()).query(Long.class).single())
                        .as("acknowledged write audited").isPositive();
            }
            // Every data key's encryptions were saved: no compartment holds more versions than
            // its keys' counters record (the counts may exceed them: a write that failed after
            // encrypting is still counted).
            List<String> undercounted = new ArrayList<>(owner.sql("""
                    select v.compartment from phi.resource_version v group by v.compartment
                    having count(*) > coalesce((select sum(d.encryptions) from keyring.dek_key d
                                                where d.key_ref = 'dek/' || v.compartment), 0)""")
                    .query(String.class).list());
            assertThat(undercounted).as("compartments whose key usage was lost").isEmpty();
        }
    }

    private String[] createClient() {
        var cli = CarapaceCli.commandLine();
        StringWriter out = new StringWriter();
        cli.setOut(new PrintWriter(out));
        assertThat(cli.execute("admin", "create-client", "--name=shutdown-test", "--role=records-service",
                "--data-dir=" + dataDir)).isZero();
        Matcher id = Pattern.compile("client_id:\\s+(\\S+)").matcher(out.toString());
        Matcher secret = Pattern.compile("client_secret:\\s+(\\S+)").matcher(out.toString());
        assertThat(id.find() && secret.find()).isTrue();
        return new String[] {id.group(1), secret.group(1)};
    }

    private static String token(HttpClient http, URI base, String clientId, String secret) throws Exception {
        String basic = Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(base.resolve("/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher token = Pattern.compile("\"access_token\":\"([^\"]+)\"").matcher(response.body());
        assertThat(token.find()).as("token response %s", response.statusCode()).isTrue();
        return token.group(1);
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
