package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.CarapaceApplication;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Callers are cached per node (ADR 0017), and a revocation must still hold on the very next
 * request on every node. Two server nodes on one database: this test's server (node A) and a
 * second one started here (node B). Each test warms node B's cache with a token, changes the
 * directory through node A or straight in the database, and the next request on node B is
 * refused at once, with no waiting. When node B's notification channel is cut, it looks callers
 * up on every request instead: still refusing a revoked token, still serving a live one.
 */
class CachedCallersAcrossNodesTest extends IntegrationTest {

    private static ConfigurableApplicationContext nodeB;
    private static int nodeBPort;

    @BeforeAll
    static void startSecondNode() {
        Map<String, Object> properties = new HashMap<>(TestInstallation.properties());
        properties.put("server.port", "0");
        // a small pool: the test database's connections are shared with every cached test context
        properties.put("carapace.db.pool-size", "4");
        // as arguments, which take precedence over application.properties (its port is 8443)
        nodeB = new SpringApplicationBuilder(CarapaceApplication.class).run(properties.entrySet().stream()
                .map(property -> "--" + property.getKey() + "=" + property.getValue()).toArray(String[]::new));
        nodeBPort = Integer.parseInt(nodeB.getEnvironment().getProperty("local.server.port"));
        await().atMost(Duration.ofSeconds(30)).until(() -> nodeB.getBean(CallerChanges.class).live());
    }

    @AfterAll
    static void stopSecondNode() {
        if (nodeB != null) {
            nodeB.close();
        }
    }

    @Test
    void aTokenRevokedOnNodeAIsRefusedByTheNextRequestOnNodeB() {
        ServiceClients.Credentials client = client("two-nodes-revoke", "records-service");
        String token = tokenFor(client.clientId(), client.clientSecret());
        warm(token);

        assertThat(form(port, "/oauth2/revoke", client, "token=" + token).statusCode()).isEqualTo(200);

        assertThat(onNodeB(token)).isEqualTo(401);
    }

    @Test
    void aClientDisabledInTheDatabaseIsRefusedByTheNextRequestOnNodeB() {
        ServiceClients.Credentials client = client("two-nodes-disable", "records-service");
        String token = tokenFor(client.clientId(), client.clientSecret());
        warm(token);

        JdbcClient.create(dataSource).sql("update iam.service_client set disabled = true where client_id = ?")
                .param(client.clientId()).update();

        assertThat(onNodeB(token)).isEqualTo(401);
    }

    @Test
    void aRoleTakenAwayInTheDatabaseHoldsOnTheNextRequestOnNodeB() {
        ServiceClients.Credentials client = client("two-nodes-roles", "records-service");
        String token = tokenFor(client.clientId(), client.clientSecret());
        warm(token);

        JdbcClient.create(dataSource).sql("update iam.service_client set roles = '{}' where client_id = ?")
                .param(client.clientId()).update();

        assertThat(onNodeB(token)).as("no role, no search").isEqualTo(403);
    }

    @Test
    void withItsChannelCutNodeBLooksCallersUpOnEveryRequest() {
        ServiceClients.Credentials revoked = client("two-nodes-cut-revoked", "records-service");
        ServiceClients.Credentials kept = client("two-nodes-cut-kept", "records-service");
        String revokedToken = tokenFor(revoked.clientId(), revoked.clientSecret());
        String keptToken = tokenFor(kept.clientId(), kept.clientSecret());
        warm(revokedToken);
        warm(keptToken);
        CallerChanges changes = nodeB.getBean(CallerChanges.class);
        long before = changes.generation();

        // Cut every listening connection (node A's too): PostgreSQL ends the backends.
        JdbcClient.create(dataSource).sql("select pg_terminate_backend(pid) from pg_stat_activity "
                + "where application_name = ?").param(CallerChanges.APPLICATION_NAME).query().listOfRows();
        await().atMost(Duration.ofSeconds(10)).until(() -> changes.generation() != before);
        assertThat(form(port, "/oauth2/revoke", revoked, "token=" + revokedToken).statusCode()).isEqualTo(200);

        assertThat(onNodeB(revokedToken)).isEqualTo(401);
        assertThat(onNodeB(keptToken)).as("a live token is still served").isEqualTo(200);
        await("the channel comes back").atMost(Duration.ofSeconds(10)).until(changes::live);
        assertThat(onNodeB(keptToken)).isEqualTo(200);
    }

    /** Two requests on node B: the first looks the caller up, the second is answered from its cache. */
    private void warm(String token) {
        assertThat(onNodeB(token)).isEqualTo(200);
        assertThat(onNodeB(token)).isEqualTo(200);
    }

    private int onNodeB(String token) {
        return sendWithoutToken(HttpRequest.newBuilder(URI.create("https://localhost:" + nodeBPort + "/fhir/Patient?_count=1"))
                .header("Authorization", "Bearer " + token).GET()).statusCode();
    }

    private HttpResponse<String> form(int node, String path, ServiceClients.Credentials client, String body) {
        String basic = Base64.getEncoder().encodeToString((client.clientId() + ":" + client.clientSecret())
                .getBytes(StandardCharsets.UTF_8));
        return sendWithoutToken(HttpRequest.newBuilder(URI.create("https://localhost:" + node + path))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }
}
