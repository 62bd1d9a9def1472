package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import health.carapace.CarapaceApplication;
import health.carapace.crypto.KeyRotation;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.Refusals;
import health.carapace.testing.SoftHsm;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TokenInspector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Issue 21 item 3, the HSM session (ADR 0041): a node whose KEK is in a real PKCS#11 token (SoftHSM2
 * through the JDK's SunPKCS11) loses every session and key handle of the token under load, and the
 * token refuses it for a while ({@link TokenInspector#takeAway}). While the token is away, every
 * request that needs a key unwrapped (a patient whose keys are not cached, a new patient) is refused
 * with 503 and an OperationOutcome that echoes nothing; a key unwrapped before serves only within
 * {@code carapace.keyring.dek-cache-max-lifetime} of its unwrap; readiness says not ready while
 * liveness stays up; every answer with PHI has its audit event; and once the token is back the node
 * serves again by itself, without a restart, within 10 s.
 */
@ExtendWith(SoftHsm.Required.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HsmSessionOutageTest {

    private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*\"([0-9a-f-]{36})\"");
    private static final Duration BACK_WITHIN = Duration.ofSeconds(10);
    /**
     * Short here so the test sees a cached key end during the outage (the default is an hour), and long
     * enough that the outage begins well within it on a loaded machine.
     */
    private static final Duration MAX_LIFETIME = Duration.ofSeconds(10);
    private static final String KEY_LABEL = "carapace-outage-kek";

    private static ConfigurableApplicationContext node;
    private static HttpClient http;
    private static URI base;
    private static String token;

    private record Answer(String kind, long startedNanos, long endedNanos, int status, String body, String requestId) {}

    @BeforeAll
    static void startANodeWithItsKekInTheOutageToken() throws Exception {
        DevEnvironment installation = TestInstallation.separate("hsm-outage");
        Map<String, Object> properties = new HashMap<>(installation.properties());
        properties.remove("carapace.kek.dev-keystore.path");
        properties.putAll(SoftHsm.get().kekProperties(SoftHsm.OUTAGE_TOKEN, KEY_LABEL));
        properties.put("server.port", "0");
        properties.put("carapace.db.pool-size", "6");
        properties.put("carapace.health.probe-timeout", "PT1S");
        properties.put("carapace.keyring.dek-cache-max-lifetime", MAX_LIFETIME.toString());
        node = new SpringApplicationBuilder(CarapaceApplication.class).run(properties.entrySet().stream()
                .map(property -> "--" + property.getKey() + "=" + property.getValue()).toArray(String[]::new));
        http = HttpClient.newBuilder().sslContext(TestInstallation.trustingSslContext(installation.dataDir()))
                .connectTimeout(Duration.ofSeconds(5)).build();
        base = URI.create("https://localhost:" + node.getEnvironment().getProperty("local.server.port"));
        ServiceClients.Credentials client = node.getBean(ServiceClients.class).create("hsm-outage",
                Set.of("records-service"));
        token = token(client);
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    @Order(1)
    void withoutTheHsmSessionUnwrapsAreRefusedWith503AndTheNodeOpensTheTokenAgainByItself() throws Exception {
        String canary = "Hsmcanary" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String cold = createPatient(canary);
        String hot = createPatient(canary);
        // nothing cached: the hot patient's keys are unwrapped by the next read, and only theirs
        node.getBean(PatientKeyring.class).invalidateAll();
        long hotUnwrappedBefore = System.nanoTime();
        assertThat(send("GET", "/fhir/Patient/" + hot, null).statusCode()).isEqualTo(200);
        long hotUnwrappedAfter = System.nanoTime();
        assertThat(probe("/health/ready")).isEqualTo(200);

        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(logs);
        ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
        AtomicBoolean loading = new AtomicBoolean(true);
        ExecutorService load = Executors.newFixedThreadPool(3);
        load.submit(() -> keepSending(loading, answers, "hot", "GET", "/fhir/Patient/" + hot, null));
        load.submit(() -> keepSending(loading, answers, "cold", "GET", "/fhir/Patient/" + cold, null));
        load.submit(() -> keepSending(loading, answers, "create", "POST", "/fhir/Patient", canary));

        SoftHsm.Token outageToken = SoftHsm.get().token(SoftHsm.OUTAGE_TOKEN);
        TokenInspector inspector = TokenInspector.of(SoftHsm.get().library());
        long away;
        long back;
        long served;
        try {
            AutoCloseable outage = inspector.takeAway(outageToken.slotListIndex(), SoftHsm.get().securityOfficerPin());
            away = System.nanoTime();
            try {
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                        .until(() -> probe("/health/ready") == 503);
                assertThat(probe("/health/live")).isEqualTo(200);
                // the hot patient's key ends its life during the outage: wait for a refused read of it
                long hotExpired = hotUnwrappedAfter + MAX_LIFETIME.toNanos();
                await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(100)).until(() ->
                        answers.stream().anyMatch(a -> a.kind().equals("hot") && a.startedNanos() > hotExpired
                                && a.status() == 503));
                assertThat(probe("/health/ready")).as("still not ready while the token is away").isEqualTo(503);
            } finally {
                outage.close();
                back = System.nanoTime();
            }
            await().atMost(BACK_WITHIN).pollInterval(Duration.ofMillis(100)).until(() ->
                    send("GET", "/fhir/Patient/" + cold, null).statusCode() == 200);
            served = System.nanoTime();
            await().atMost(BACK_WITHIN).pollInterval(Duration.ofMillis(100)).until(() -> probe("/health/ready") == 200);
        } finally {
            loading.set(false);
            load.shutdown();
            load.awaitTermination(60, TimeUnit.SECONDS);
            root.detachAppender(logs);
        }
        Duration recovery = Duration.ofNanos(served - back);
        System.out.println("HSM session back after the token returned: " + recovery.toMillis() + " ms (outage began "
                + Duration.ofNanos(away - hotUnwrappedAfter).toMillis() + " ms after the hot key's unwrap, lasted "
                + Duration.ofNanos(back - away).toMillis() + " ms)");
        assertThat(recovery).as("served again by itself").isLessThanOrEqualTo(BACK_WITHIN);

        List<Answer> during = answers.stream().filter(a -> a.startedNanos() > away && a.endedNanos() < back).toList();
        assertThat(during).filteredOn(a -> a.kind().equals("cold")).as("uncached keys need the token").isNotEmpty()
                .allSatisfy(a -> assertThat(a.status()).isEqualTo(503));
        assertThat(during).filteredOn(a -> a.kind().equals("create")).as("a new patient's key needs the token")
                .isNotEmpty().allSatisfy(a -> assertThat(a.status()).isEqualTo(503));
        // a key unwrapped before the outage serves within its lifetime after its unwrap, and not after it
        assertThat(during).filteredOn(a -> a.kind().equals("hot") && a.endedNanos() < hotUnwrappedBefore
                + MAX_LIFETIME.toNanos()).as("cached key within its lifetime").isNotEmpty()
                .allSatisfy(a -> assertThat(a.status()).isEqualTo(200));
        assertThat(during).filteredOn(a -> a.kind().equals("hot") && a.startedNanos() > hotUnwrappedAfter
                + MAX_LIFETIME.toNanos()).as("cached key past its lifetime").isNotEmpty()
                .allSatisfy(a -> assertThat(a.status()).isEqualTo(503));
        assertThat(during).filteredOn(a -> a.status() == 503).allSatisfy(refused -> {
            assertThat(Refusals.outcomeOf("application/fhir+json", refused.body()).getIssueFirstRep().getCode()
                    .toCode()).isEqualTo("transient");
            assertThat(refused.body()).doesNotContain(canary).doesNotContain(cold).doesNotContain(hot);
        });
        assertThat(answers).as("nothing but served or refused as unavailable")
                .allSatisfy(a -> assertThat(a.status()).isIn(200, 201, 503));

        List<String> served2xx = answers.stream().filter(a -> a.status() / 100 == 2).map(Answer::requestId).toList();
        assertThat(served2xx).isNotEmpty();
        JdbcClient jdbc = JdbcClient.create(node.getBean(DataSource.class));
        List<String> audited = jdbc.sql("select convert_from(body, 'UTF8')::jsonb ->> 'request_id' from audit.event"
                + " where convert_from(body, 'UTF8')::jsonb ->> 'request_id' = any(?)")
                .param(served2xx.toArray(String[]::new)).query(String.class).list();
        assertThat(audited).as("every answer with PHI has its audit event").containsAll(served2xx);

        List<String> logged = logs.list.stream().map(HsmSessionOutageTest::text).toList();
        assertThat(logged).anySatisfy(line -> assertThat(line).contains("The HSM session was lost"))
                .anySatisfy(line -> assertThat(line).contains("The HSM session is open again"))
                .noneSatisfy(line -> assertThat(line).contains(canary))
                .noneSatisfy(line -> assertThat(line).contains(cold));
        assertThat(createPatient(canary)).isNotBlank();
    }

    /**
     * Brief s8 item 4 (ADR 0045): a blind-index re-keying that reaches its re-index while the HSM is away
     * stops and keeps every search token, instead of taking the unreadable records for crypto-shredded and
     * dropping their tokens; once the token is back the job resumes from its checkpoint, and the patient
     * is found by search under the new index key.
     */
    @Test
    @Order(2)
    void aReindexDuringAnHsmOutageDropsNoSearchTokensAndFinishesOnceTheTokenIsBack() throws Exception {
        String family = "Hsmreindex" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String patient = createPatient(family);
        JdbcClient jdbc = JdbcClient.create(node.getBean(DataSource.class));
        List<Integer> before = tokenVersions(jdbc, patient);
        assertThat(before).isNotEmpty();

        KeyRotation rotation = node.getBean(KeyRotation.class);
        UUID job = rotation.rotateIndexKeys("test:hsm-outage");
        ExecutorService runner = Executors.newSingleThreadExecutor();
        try {
            // the job makes its new index key (the HSM wraps it) and then waits for every node to see it
            Future<Boolean> firstRun = runner.submit(rotation::runJobs);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() ->
                    "settle".equals(phase(jdbc, job)));
            SoftHsm.Token outageToken = SoftHsm.get().token(SoftHsm.OUTAGE_TOKEN);
            TokenInspector inspector = TokenInspector.of(SoftHsm.get().library());
            try (AutoCloseable outage = inspector.takeAway(outageToken.slotListIndex(),
                    SoftHsm.get().securityOfficerPin())) {
                node.getBean(PatientKeyring.class).invalidateAll(); // no record's key is at hand
                assertThatThrownBy(() -> firstRun.get(60, TimeUnit.SECONDS))
                        .as("the re-index stops at a key it cannot unwrap").isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(KeyUnavailableException.class)
                        .isNotInstanceOf(health.carapace.crypto.KeyDestroyedException.class);
                assertThat(phase(jdbc, job)).isEqualTo("reindex");
                assertThat(tokenVersions(jdbc, patient)).as("no token dropped during the outage")
                        .containsExactlyInAnyOrderElementsOf(before);
            }
            // back: the job resumes from its checkpoint (as the scheduler would at its next check)
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                    .until(rotation::runJobs);
        } finally {
            runner.shutdownNow();
        }
        assertThat(jdbc.sql("select state from ops.key_job where id = ?").param(job).query(String.class).single())
                .isEqualTo("finished");
        List<Integer> after = tokenVersions(jdbc, patient);
        assertThat(after).hasSameSizeAs(before).doesNotContainAnyElementsOf(before);
        HttpResponse<String> found = send("GET", "/fhir/Patient?family=" + family, null);
        assertThat(found.statusCode()).isEqualTo(200);
        assertThat(found.body()).contains(patient);
    }

    /**
     * The same for a data-key rotation: its re-encryption meets keys it cannot unwrap and stops where it
     * is (before, it skipped every such record as "shredded" and went on to the destroy phase), and it
     * finishes once the token is back, the patient read under the new key.
     */
    @Test
    @Order(3)
    void aDataKeyRotationDuringAnHsmOutageStopsAtItsReencryptionAndFinishesOnceTheTokenIsBack() throws Exception {
        String family = "Hsmrotation" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String patient = createPatient(family);
        JdbcClient jdbc = JdbcClient.create(node.getBean(DataSource.class));
        KeyRotation rotation = node.getBean(KeyRotation.class);
        UUID job = rotation.rotateDeks("test:hsm-outage", null);
        ExecutorService runner = Executors.newSingleThreadExecutor();
        try {
            Future<Boolean> firstRun = runner.submit(rotation::runJobs);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() ->
                    "settle".equals(phase(jdbc, job)));
            SoftHsm.Token outageToken = SoftHsm.get().token(SoftHsm.OUTAGE_TOKEN);
            TokenInspector inspector = TokenInspector.of(SoftHsm.get().library());
            try (AutoCloseable outage = inspector.takeAway(outageToken.slotListIndex(),
                    SoftHsm.get().securityOfficerPin())) {
                assertThatThrownBy(() -> firstRun.get(60, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class).cause().isInstanceOf(KeyUnavailableException.class);
                assertThat(phase(jdbc, job)).as("stopped in its re-encryption, nothing skipped").isEqualTo("reencrypt");
            }
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                    .until(rotation::runJobs);
        } finally {
            runner.shutdownNow();
        }
        assertThat(jdbc.sql("select state from ops.key_job where id = ?").param(job).query(String.class).single())
                .isEqualTo("finished");
        HttpResponse<String> read = send("GET", "/fhir/Patient/" + patient, null);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.body()).contains(family);
    }

    private static List<Integer> tokenVersions(JdbcClient jdbc, String patient) {
        return jdbc.sql("select key_version from phi_index.token where resource_type = 'Patient' and resource_id = ?")
                .param(UUID.fromString(patient)).query(Integer.class).list();
    }

    private static String phase(JdbcClient jdbc, UUID job) {
        return jdbc.sql("select phase from ops.key_job where id = ?").param(job).query(String.class).single();
    }

    private static void keepSending(AtomicBoolean loading, ConcurrentLinkedQueue<Answer> answers, String kind,
            String method, String path, String family) {
        while (loading.get()) {
            long started = System.nanoTime();
            try {
                HttpResponse<String> response = send(method, path, family);
                answers.add(new Answer(kind, started, System.nanoTime(), response.statusCode(), response.body(),
                        response.headers().firstValue("X-Request-Id").orElse("")));
            } catch (Exception e) {
                answers.add(new Answer(kind, started, System.nanoTime(), -1, e.getClass().getName(), ""));
            }
        }
    }

    /** A log line as it would be written: message, and every message of the exception chain. */
    private static String text(ILoggingEvent event) {
        StringBuilder text = new StringBuilder(event.getFormattedMessage());
        for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
            text.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
        }
        return text.toString();
    }

    private static String createPatient(String family) throws Exception {
        HttpResponse<String> created = send("POST", "/fhir/Patient", family);
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

    private static HttpResponse<String> send(String method, String path, String family) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token);
        if (method.equals("POST")) {
            request.header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(
                    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}"));
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
