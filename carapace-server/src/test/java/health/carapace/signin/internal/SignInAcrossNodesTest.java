package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.CarapaceApplication;
import health.carapace.signin.Users;
import health.carapace.testing.HaproxyBalancer;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Many nodes, one database (issue #21, ADR 0030): this test's server (node a) and a second node
 * (node b) started here on the same database, behind a real HAProxy that balances every request
 * round-robin with no stickiness. Any node serves any step of a sign-in, a code issued on one is
 * redeemed on the other, a revocation on one holds on the other at the next request, and a
 * restarted node keeps everyone signed in.
 */
class SignInAcrossNodesTest extends IntegrationTest {

    private static final String PASSWORD = "a long enough passphrase";

    private static ConfigurableApplicationContext nodeB;
    private static int nodeBPort;
    private static String nodeAIssuer;
    private static HaproxyBalancer balancer;

    @Autowired
    private Users users;

    @BeforeAll
    static void startSecondNodeAndBalancer(@Autowired org.springframework.core.env.Environment environment)
            throws Exception {
        nodeBPort = HaproxyBalancer.freePort();
        int nodeAPort = Integer.parseInt(environment.getProperty("local.server.port"));
        nodeAIssuer = environment.getProperty("carapace.issuer");
        startNodeB();
        Map<String, Integer> nodes = new LinkedHashMap<>();
        nodes.put("a", nodeAPort);
        nodes.put("b", nodeBPort);
        balancer = HaproxyBalancer.start(TestInstallation.dataDir(), nodes);
    }

    private static void startNodeB() {
        Map<String, Object> properties = new HashMap<>(TestInstallation.properties());
        properties.put("server.port", String.valueOf(nodeBPort));
        // every node of one installation issues tokens as one issuer (the balancer's address in production)
        properties.put("carapace.issuer", nodeAIssuer);
        // a small pool: the test database's connections are shared with every cached test context
        properties.put("carapace.db.pool-size", "4");
        nodeB = new SpringApplicationBuilder(CarapaceApplication.class).run(properties.entrySet().stream()
                .map(property -> "--" + property.getKey() + "=" + property.getValue()).toArray(String[]::new));
        await().atMost(Duration.ofSeconds(30)).until(() -> nodeB.getBean(CallerChanges.class).live());
    }

    @AfterAll
    static void stop() throws Exception {
        if (balancer != null) {
            balancer.close();
        }
        if (nodeB != null) {
            nodeB.close();
        }
    }

    @Test
    void aSignInWhoseStepsAlternateNodesBehindTheBalancerSucceeds() throws Exception {
        Map<String, Long> before = balancer.requestsServed();
        String name = "nodes-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(name, Set.of(TestPolicy.CLINICIAN), null);
        SignInBrowser browser = browserAt(balancer.base());
        java.util.List<String> servedBy = new java.util.ArrayList<>();
        browser.seen = response -> servedBy.add(node(response));

        SignInBrowser.Tokens tokens = browser.firstSignIn(enrolment.link(), name, PASSWORD);

        // every step went to the other node than the step before it: enrolment, authorization
        // request, password (its page from one node, the form to the other), TOTP, code, token
        assertThat(servedBy).hasSizeGreaterThanOrEqualTo(9);
        for (int i = 1; i < servedBy.size(); i++) {
            assertThat(servedBy.get(i)).as("step %s of %s", i, servedBy).isNotEqualTo(servedBy.get(i - 1));
        }
        Map<String, Long> after = balancer.requestsServed();
        assertThat(after.get("a") - before.getOrDefault("a", 0L)).isGreaterThanOrEqualTo(4);
        assertThat(after.get("b") - before.getOrDefault("b", 0L)).isGreaterThanOrEqualTo(4);
        // the tokens work on both nodes
        assertThat(readOn(baseUrl(), tokens.accessToken())).isEqualTo(200);
        assertThat(readOn(nodeB(), tokens.accessToken())).isEqualTo(200);
    }

    @Test
    void readsThroughTheBalancerAreServedByBothNodes() {
        String token = token();
        Set<String> servedBy = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> response = sendWithoutToken(HttpRequest.newBuilder(
                    URI.create(balancer.base() + "/fhir/Patient?_count=1")).header("Authorization", "Bearer " + token).GET());
            assertThat(response.statusCode()).isEqualTo(200);
            servedBy.add(node(response));
        }
        assertThat(servedBy).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void aCodeIssuedOnOneNodeIsRedeemedOnTheOther() {
        SignInBrowser browser = browserAt(baseUrl());
        enrolAndSignInUpToTheCode(browser);

        browser.base = nodeB();
        SignInBrowser.Tokens tokens = SignInBrowser.tokens(browser.exchange(browser.code, browser.verifier));

        assertThat(readOn(nodeB(), tokens.accessToken())).isEqualTo(200);
        assertThat(readOn(baseUrl(), tokens.accessToken())).isEqualTo(200);
        // and the code, used once, is refused on the node that issued it
        browser.base = baseUrl();
        assertThat(browser.exchange(browser.code, browser.verifier).statusCode()).isEqualTo(400);
    }

    @Test
    void aSignOutOnOneNodeIsRefusedOnTheOtherAtTheNextRequest() {
        SignInBrowser browser = browserAt(baseUrl());
        enrolAndSignInUpToTheCode(browser);
        SignInBrowser.Tokens tokens = SignInBrowser.tokens(browser.exchange(browser.code, browser.verifier));
        assertThat(readOn(nodeB(), tokens.accessToken())).as("control").isEqualTo(200);

        // the refresh token revoked on node a (sign-out): the session ends everywhere
        assertThat(browser.revoke(tokens.refreshToken()).statusCode()).isEqualTo(200);

        assertThat(readOn(nodeB(), tokens.accessToken())).isEqualTo(401);
        browser.base = nodeB();
        assertThat(browser.refresh(tokens.refreshToken()).statusCode()).isEqualTo(400);
    }

    @Test
    void aRefreshTokenRotatedOnOneNodeAndReplayedOnTheOtherEndsTheSession() {
        SignInBrowser browser = browserAt(baseUrl());
        enrolAndSignInUpToTheCode(browser);
        SignInBrowser.Tokens first = SignInBrowser.tokens(browser.exchange(browser.code, browser.verifier));
        browser.base = nodeB();
        SignInBrowser.Tokens rotated = SignInBrowser.tokens(browser.refresh(first.refreshToken()));
        assertThat(rotated.refreshToken()).isNotEqualTo(first.refreshToken());

        browser.base = baseUrl();
        assertThat(browser.refresh(first.refreshToken()).statusCode()).as("the replay").isEqualTo(400);

        assertThat(readOn(nodeB(), rotated.accessToken())).as("the session ended").isEqualTo(401);
        browser.base = nodeB();
        assertThat(browser.refresh(rotated.refreshToken()).statusCode()).isEqualTo(400);
    }

    @Test
    void aRestartedNodeKeepsEveryoneSignedIn() {
        SignInBrowser browser = browserAt(nodeB());
        enrolAndSignInUpToTheCode(browser);
        SignInBrowser.Tokens tokens = SignInBrowser.tokens(browser.exchange(browser.code, browser.verifier));

        nodeB.close();
        startNodeB();

        SignInBrowser.Tokens refreshed = SignInBrowser.tokens(browser.refresh(tokens.refreshToken()));
        assertThat(readOn(nodeB(), refreshed.accessToken())).isEqualTo(200);
        // the rotation made before the restart is still known: the old token's return ends the session
        assertThat(browser.refresh(tokens.refreshToken()).statusCode()).isEqualTo(400);
        assertThat(readOn(nodeB(), refreshed.accessToken())).isEqualTo(401);
    }

    @Test
    void anonymousRequestsWriteNothingOnEitherNodeAndASignInOutlivesAKeyRotatedOnTheOtherNode() {
        // ADR 0042: the waiting request is the browser's cookie, opened by whichever node is asked
        long since = System.currentTimeMillis();
        SignInBrowser visitor = browserAt(balancer.base());
        for (int i = 0; i < 10; i++) {
            visitor.newBrowser();
            assertThat(visitor.authorize().statusCode()).isEqualTo(302);
            HttpResponse<String> page = visitor.get(balancer.base() + "/login");
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).as("the other node names the waiting request's app").contains("id=\"asking-app\"");
        }
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from iam.sign_in_session where creation_time >= ?")
                .param(since).query(Long.class).single()).as("sessions begun by anonymous visitors").isZero();

        String name = "nodes-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(name, Set.of(TestPolicy.CLINICIAN), null);
        SignInBrowser browser = browserAt(balancer.base());
        assertThat(browser.setPassword(enrolment.link(), PASSWORD).statusCode()).isEqualTo(200);
        assertThat(browser.authorize().statusCode()).isEqualTo(302);
        assertThat(SignInBrowser.location(browser.submitPassword(name, PASSWORD))).endsWith("/login/totp");
        // the sign-in state key rotated on node b; node a has not read the keyset since
        assertThat(nodeB.getBean(health.carapace.crypto.KeyRotation.class).rotateStateKeys("cli:test")).isNotEmpty();
        String secret = browser.enrolmentSecret();
        String code = browser.followToCode(browser.submitEnrolmentCode(browser.nextCode(secret)));
        SignInBrowser.Tokens tokens = SignInBrowser.tokens(browser.exchange(code, browser.verifier));
        browser.base = baseUrl();
        SignInBrowser.Tokens refreshedOnA = SignInBrowser.tokens(browser.refresh(tokens.refreshToken()));
        browser.base = nodeB();
        assertThat(SignInBrowser.tokens(browser.refresh(refreshedOnA.refreshToken())).accessToken()).isNotBlank();
    }

    /** A new person, enrolled, signed in with password and TOTP: the browser holds the code and verifier. */
    private void enrolAndSignInUpToTheCode(SignInBrowser browser) {
        String name = "nodes-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(name, Set.of(TestPolicy.CLINICIAN), null);
        assertThat(browser.setPassword(enrolment.link(), PASSWORD).statusCode()).isEqualTo(200);
        assertThat(browser.authorize().statusCode()).isEqualTo(302);
        assertThat(SignInBrowser.location(browser.submitPassword(name, PASSWORD))).endsWith("/login/totp");
        String secret = browser.enrolmentSecret();
        browser.followToCode(browser.submitEnrolmentCode(browser.nextCode(secret)));
    }

    private SignInBrowser browserAt(String base) {
        return new SignInBrowser(base, TestInstallation.trustingSslContext(TestInstallation.dataDir()));
    }

    private static String nodeB() {
        return "https://localhost:" + nodeBPort;
    }

    private int readOn(String base, String accessToken) {
        return sendWithoutToken(HttpRequest.newBuilder(URI.create(base + "/fhir/Patient?_count=1"))
                .header("Authorization", "Bearer " + accessToken).GET()).statusCode();
    }

    private static String node(HttpResponse<?> response) {
        return response.headers().firstValue(HaproxyBalancer.NODE_HEADER)
                .orElseThrow(() -> new AssertionError("no " + HaproxyBalancer.NODE_HEADER + " header"));
    }
}
