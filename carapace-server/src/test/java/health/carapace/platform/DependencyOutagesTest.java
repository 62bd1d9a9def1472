package health.carapace.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.CarapaceApplication;
import health.carapace.audit.AuditVerifier;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.CuttableLink;
import health.carapace.testing.TestInstallation;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Issue 21, item 3, for the two databases: a node whose PHI database or keyring becomes
 * unreachable refuses the PHI requests that need it with 503 and an OperationOutcome (after
 * {@code carapace.db.connection-wait}, 5 s here), reports not ready while staying live, returns
 * nothing unaudited, and serves again by itself within 10 s of the database coming back. The
 * databases are cut off by a TCP link between the node and PostgreSQL ({@link CuttableLink}), as a
 * partition would.
 */
class DependencyOutagesTest {

    private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*\"([0-9a-f-]{36})\"");
    private static final Duration BACK_WITHIN = Duration.ofSeconds(10);

    private static CuttableLink phiLink;
    private static CuttableLink keyringLink;
    private static ConfigurableApplicationContext node;
    private static HttpClient http;
    private static URI base;
    private static String token;

    @BeforeAll
    static void startANodeBehindCuttableLinks() throws Exception {
        Map<String, Object> properties = new HashMap<>(TestInstallation.properties());
        int postgres = URI.create(properties.get("carapace.db.url").toString().substring("jdbc:".length())).getPort();
        phiLink = CuttableLink.to("localhost", postgres);
        keyringLink = CuttableLink.to("localhost", postgres);
        properties.put("carapace.db.url", "jdbc:postgresql://localhost:" + phiLink.port() + "/postgres");
        properties.put("carapace.keyring.url", "jdbc:postgresql://localhost:" + keyringLink.port() + "/postgres");
        properties.put("server.port", "0");
        // a small pool: the test database's connections are shared with every cached test context
        properties.put("carapace.db.pool-size", "4");
        // refused quickly while a database is away (the default is 30 s, Hikari's)
        properties.put("carapace.db.connection-wait", "PT5S");
        properties.put("carapace.health.probe-timeout", "PT1S");
        node = new SpringApplicationBuilder(CarapaceApplication.class).run(properties.entrySet().stream()
                .map(property -> "--" + property.getKey() + "=" + property.getValue()).toArray(String[]::new));
        http = HttpClient.newBuilder().sslContext(TestInstallation.trustingSslContext(TestInstallation.dataDir()))
                .connectTimeout(Duration.ofSeconds(5)).build();
        base = URI.create("https://localhost:" + node.getEnvironment().getProperty("local.server.port"));
        ServiceClients.Credentials client = node.getBean(ServiceClients.class).create("outages", Set.of("records-service"));
        token = token(client);
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
        if (phiLink != null) {
            phiLink.close();
            keyringLink.close();
        }
    }

    @Test
    void withoutThePhiDatabaseRequestsAreRefusedWith503AndServiceReturnsByItself() throws Exception {
        String patient = createPatient();
        assertThat(send("GET", "/fhir/Patient/" + patient).statusCode()).isEqualTo(200);

        phiLink.cut();
        try {
            long started = System.nanoTime();
            HttpResponse<String> read = send("GET", "/fhir/Patient/" + patient);
            assertThat(read.statusCode()).isEqualTo(503);
            assertThat(read.body()).contains("\"resourceType\":\"OperationOutcome\"").doesNotContain(patient);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("refused without waiting 30 s")
                    .isLessThan(Duration.ofSeconds(15));
            HttpResponse<String> create = send("POST", "/fhir/Patient");
            assertThat(create.statusCode()).isEqualTo(503);
            assertThat(create.body()).contains("\"resourceType\":\"OperationOutcome\"");
            long probed = System.nanoTime();
            assertThat(probe("/health/ready")).isEqualTo(503);
            assertThat(Duration.ofNanos(System.nanoTime() - probed)).as("readiness answers within its probe timeout, "
                    + "not after the pool's connection wait").isLessThan(Duration.ofSeconds(4));
            assertThat(probe("/health")).isEqualTo(503);
            assertThat(probe("/health/live")).isEqualTo(200);
        } finally {
            phiLink.restore();
        }

        await().atMost(BACK_WITHIN).pollInterval(Duration.ofMillis(200)).until(() ->
                send("GET", "/fhir/Patient/" + patient).statusCode() == 200);
        assertThat(probe("/health/ready")).isEqualTo(200);
        assertThat(createPatient()).isNotBlank();
        assertTheAuditTrailVerifies();
    }

    @Test
    void withoutTheKeyringNoNewPatientIsStoredCachedKeysStillReadAndAllIsAudited() throws Exception {
        String known = createPatient();
        assertThat(send("GET", "/fhir/Patient/" + known).statusCode()).isEqualTo(200);

        keyringLink.cut();
        long readsAudited;
        try {
            long auditedBefore = readEvents(known);
            HttpResponse<String> create = send("POST", "/fhir/Patient");
            assertThat(create.statusCode()).as("a new patient needs a key from the keyring").isEqualTo(503);
            assertThat(create.body()).contains("\"resourceType\":\"OperationOutcome\"");
            // its key is cached on this node: the read needs no keyring, and is audited as ever
            HttpResponse<String> read = send("GET", "/fhir/Patient/" + known);
            assertThat(read.statusCode()).isEqualTo(200);
            readsAudited = readEvents(known) - auditedBefore;
            assertThat(probe("/health/ready")).isEqualTo(503);
            assertThat(probe("/health/live")).isEqualTo(200);
        } finally {
            keyringLink.restore();
        }
        assertThat(readsAudited).as("the read served while the keyring was down has its audit event").isEqualTo(1);

        await().atMost(BACK_WITHIN).pollInterval(Duration.ofMillis(200)).until(() ->
                send("POST", "/fhir/Patient").statusCode() == 201);
        assertThat(probe("/health/ready")).isEqualTo(200);
        assertTheAuditTrailVerifies();
    }

    /** Connections cut mid-commit leave the trail whole: every event sealed, every head valid. */
    private static void assertTheAuditTrailVerifies() {
        JdbcClient jdbc = JdbcClient.create(node.getBean(DataSource.class));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(jdbc.sql(
                "select count(*) from audit.event e where not exists (select 1 from audit.leaf l where l.event_id = e.id)")
                .query(Long.class).single()).as("events in no leaf").isZero());
        var report = node.getBean(AuditVerifier.class).verify();
        assertThat(report.ok()).as("audit verification: %s", report.firstProblem()).isTrue();
    }

    private static long readEvents(String patient) {
        return JdbcClient.create(node.getBean(DataSource.class))
                .sql("select count(*) from audit.event where patient = ? and action = 'viewed'")
                .param("Patient/" + patient).query(Long.class).single();
    }

    private static String createPatient() throws Exception {
        HttpResponse<String> created = send("POST", "/fhir/Patient");
        assertThat(created.statusCode()).isEqualTo(201);
        Matcher id = ID.matcher(created.body());
        assertThat(id.find()).isTrue();
        return id.group(1);
    }

    /** A probe, as a load balancer sends it: no token. */
    private static int probe(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private static HttpResponse<String> send(String method, String path) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token);
        if (method.equals("POST")) {
            request.header("Content-Type", "application/fhir+json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"gender\":\"unknown\"}"));
        } else {
            request.GET();
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
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
