package health.carapace.signin;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.internal.IntrospectionProbe;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SignInBrowser;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A service client's access token revoked at {@code /oauth2/revoke} is refused by the API (ADR 0013)
 * and must also be reported {@code "active": false} by the introspection endpoint (RFC 7662 §2.2):
 * a resource server or gateway that introspects would otherwise keep accepting it. Another client
 * learns nothing about a token that is not its own. Found in review (after issue 12): introspection
 * answered {@code active: true} with every claim, after revocation and to any other client.
 * Introspection gives the API's answer: a disabled client's token and a person's token after
 * their sessions were revoked are inactive too (component level: neither a disabled client nor a
 * login app, a public client, can authenticate at the endpoint).
 */
class RevokedTokensAreInactiveAtIntrospectionTest extends IntegrationTest {

    private static final String INACTIVE = "{\"active\":false}";

    @Autowired
    private Users users;

    @Autowired
    private ApplicationContext context;

    @Test
    void aRevokedServiceClientTokenIsInactiveAtIntrospection() {
        ServiceClients.Credentials client = client("introspected", "records-service");
        String token = tokenFor(client.clientId(), client.clientSecret());
        assertThat(form("/oauth2/introspect", client, "token=" + token).body()).as("control: live before")
                .contains("\"active\":true");
        assertThat(form("/oauth2/revoke", client, "token=" + token).statusCode()).isEqualTo(200);
        assertThat(api(token)).isEqualTo(401);

        HttpResponse<String> introspection = form("/oauth2/introspect", client, "token=" + token);

        assertThat(introspection.statusCode()).isEqualTo(200);
        assertThat(introspection.body().replace(" ", "")).isEqualTo(INACTIVE);
    }

    @Test
    void anotherClientLearnsNothingAboutATokenThatIsNotItsOwn() {
        ServiceClients.Credentials owner = client("introspection-owner", "records-service");
        ServiceClients.Credentials other = client("introspection-other", "records-service");
        String token = tokenFor(owner.clientId(), owner.clientSecret());

        HttpResponse<String> introspection = form("/oauth2/introspect", other, "token=" + token);

        assertThat(introspection.statusCode()).isEqualTo(200);
        assertThat(introspection.body().replace(" ", "")).isEqualTo(INACTIVE);
        assertThat(introspection.body()).doesNotContain(owner.clientId()).doesNotContain(token);
        assertThat(api(token)).as("the token itself is untouched").isEqualTo(200);
    }

    @Test
    void aClientsOwnLiveTokenIsActiveWithItsClaims() {
        ServiceClients.Credentials client = client("introspection-self", "records-service");
        String token = tokenFor(client.clientId(), client.clientSecret());

        HttpResponse<String> introspection = form("/oauth2/introspect", client, "token=" + token);

        assertThat(introspection.statusCode()).isEqualTo(200);
        assertThat(introspection.body()).contains("\"active\":true").contains("\"sub\":\"" + client.clientId() + "\"")
                .contains("\"client_id\":\"" + client.clientId() + "\"").contains("\"exp\":");
    }

    @Test
    void aForeignOrMalformedValueIsInactive() {
        ServiceClients.Credentials client = client("introspection-garbage", "records-service");
        String token = tokenFor(client.clientId(), client.clientSecret());
        // The same token with its last signature character changed: no longer ours.
        String altered = token.substring(0, token.length() - 1) + (token.endsWith("A") ? "B" : "A");

        assertThat(form("/oauth2/introspect", client, "token=" + altered).body().replace(" ", "")).isEqualTo(INACTIVE);
        assertThat(form("/oauth2/introspect", client, "token=not-a-token").body().replace(" ", "")).isEqualTo(INACTIVE);
    }

    @Test
    void aDisabledClientsTokenIsInactive() {
        ServiceClients.Credentials client = client("introspection-disabled", "records-service");
        String token = tokenFor(client.clientId(), client.clientSecret());
        IntrospectionProbe probe = IntrospectionProbe.asClient(context, client.clientId());
        assertThat(probe.introspect(token)).as("control").containsEntry("active", true);

        JdbcClient.create(dataSource).sql("update iam.service_client set disabled = true where client_id = ?")
                .param(client.clientId()).update();

        assertThat(probe.introspect(token)).containsExactly(
                java.util.Map.entry("active", false));
    }

    @Test
    void aPersonsTokenIsInactiveOnceTheirSessionsAreRevoked() {
        String name = "introspected-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(name, Set.of(health.carapace.testing.TestPolicy.CLINICIAN), "prac-1");
        SignInBrowser browser = new SignInBrowser(baseUrl(),
                health.carapace.testing.TestInstallation.trustingSslContext(health.carapace.testing.TestInstallation.dataDir()));
        String token = browser.firstSignIn(enrolment.link(), name, "a long enough passphrase").accessToken();
        IntrospectionProbe probe = IntrospectionProbe.asClient(context, SignInBrowser.APP);
        assertThat(probe.introspect(token)).as("control")
                .containsEntry("active", true).containsEntry("sub", name);

        users.revokeSessions(name);

        assertThat(probe.introspect(token)).containsExactly(
                java.util.Map.entry("active", false));
    }

    private int api(String token) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient?_count=1"))
                .header("Authorization", "Bearer " + token).GET()).statusCode();
    }

    private HttpResponse<String> form(String path, ServiceClients.Credentials client, String body) {
        String basic = Base64.getEncoder().encodeToString((client.clientId() + ":" + client.clientSecret())
                .getBytes(StandardCharsets.UTF_8));
        return sendWithoutToken(HttpRequest.newBuilder(uri(path)).header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }
}
