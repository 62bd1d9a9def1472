package health.carapace.access;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.ServiceClients;
import health.carapace.signin.Users;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SignInBrowser;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

/**
 * Behind a configured trusted proxy (here: loopback, where the test client connects from), the
 * client address is taken from X-Forwarded-For, walked from the right; IP ranges are checked
 * against it on every request. A server of its own, since the setting is read at startup.
 */
@TestPropertySource(properties = "carapace.access.trusted-proxies=127.0.0.0/8,::1/128")
class TrustedProxyTest extends IntegrationTest {

    @Test
    void theForwardedClientAddressDecidesBehindATrustedProxy() {
        ServiceClients.Credentials admin = serviceClients.create("proxy-admin", Set.of("admin"));
        String adminToken = tokenFor(admin.clientId(), admin.clientSecret());
        String name = "remote-auditor-" + Fakes.letters(8).toLowerCase(Locale.ROOT);
        HttpResponse<String> created = sendWithoutToken(HttpRequest.newBuilder(uri("/admin/roles/" + name))
                .header("Authorization", "Bearer " + adminToken).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"role\":\"" + name + "\",\"permissions\":[\"view:audit\"],"
                        + "\"constraints\":{\"ip_range\":[\"192.0.2.0/24\"]}}")));
        assertThat(created.statusCode()).isEqualTo(201);
        ServiceClients.Credentials auditor = serviceClients.create("proxy-auditor", Set.of(name));
        String token = tokenFor(auditor.clientId(), auditor.clientSecret());
        String path = "/admin/audit/disclosures?patient=" + UUID.randomUUID();

        // The proxy (loopback) says the client is 192.0.2.7: inside the role's range.
        HttpResponse<String> allowed = get(token, path, "192.0.2.7");
        assertThat(allowed.statusCode()).isEqualTo(200);
        // A client-supplied hop left of the proxy's entry does not count; the rightmost untrusted one does.
        HttpResponse<String> refused = get(token, path, "192.0.2.7, 198.51.100.4");
        assertThat(refused.statusCode()).isEqualTo(403);
        // The audit trail records the address the decision saw, for the access and for the refusal.
        assertThat(auditedAddresses(allowed)).containsOnly("192.0.2.7");
        assertThat(auditedAddresses(refused)).containsOnly("198.51.100.4");
        assertThat(get(token, path, "198.51.100.4, 192.0.2.7").statusCode()).isEqualTo(200);
        // Without the header, or with one that does not parse, the peer (loopback) is the client: outside.
        assertThat(get(token, path, null).statusCode()).isEqualTo(403);
        assertThat(get(token, path, "192.0.2.7:443").statusCode()).isEqualTo(403);
        // The admin role itself is loopback-only: a forwarded outside address takes it away.
        assertThat(sendWithoutToken(HttpRequest.newBuilder(uri("/admin/roles")).header("Authorization",
                "Bearer " + adminToken).header("X-Forwarded-For", "198.51.100.4").GET()).statusCode()).isEqualTo(403);
        assertThat(sendWithoutToken(HttpRequest.newBuilder(uri("/admin/roles/" + name))
                .header("Authorization", "Bearer " + adminToken).DELETE()).statusCode()).isEqualTo(204);
    }

    /**
     * Failed sign-ins are throttled per real client address, not per proxy: a password sprayer
     * behind the proxy is slowed down, everyone else behind it still signs in.
     */
    @Test
    void signInIsThrottledByTheForwardedClientAddressNotByTheProxy(@org.springframework.beans.factory.annotation.Autowired
            Users users) {
        String name = "proxied-" + Fakes.letters(8).toLowerCase(Locale.ROOT);
        String password = "proxied sign-in " + UUID.randomUUID();
        Users.Enrolment enrolment = users.create(name, Set.of(health.carapace.testing.TestPolicy.CLINICIAN), null);
        SignInBrowser browser = new SignInBrowser(baseUrl(), health.carapace.testing.TestInstallation.trustingSslContext(
                health.carapace.testing.TestInstallation.dataDir()));
        assertThat(browser.setPassword(enrolment.link(), password).statusCode()).isEqualTo(200);
        String sprayer = "192.0.2." + (100 + new java.util.Random().nextInt(100));
        // 5 x max-failures are free per address; one more starts the back-off
        for (int i = 0; i <= 25; i++) {
            browser.newBrowser();
            assertThat(signIn(browser, "nobody-" + UUID.randomUUID(), "wrong password " + i, sprayer).statusCode())
                    .isEqualTo(200);
        }
        browser.newBrowser();
        // the sprayer's address is held back, even with the right password ...
        assertThat(signIn(browser, name, password, sprayer).statusCode()).isEqualTo(200);
        browser.newBrowser();
        // ... while a colleague behind the same proxy signs in (303 to the authenticator step)
        HttpResponse<String> colleague = signIn(browser, name, password, "198.51.100.23");
        assertThat(colleague.statusCode()).isEqualTo(303);
        assertThat(SignInBrowser.location(colleague)).endsWith("/login/totp");
    }

    private static HttpResponse<String> signIn(SignInBrowser browser, String user, String password, String forwardedFor) {
        HttpResponse<String> page = browser.send(HttpRequest.newBuilder(java.net.URI.create(browser.base + "/login"))
                .header("X-Forwarded-For", forwardedFor).GET());
        assertThat(page.statusCode()).isEqualTo(200);
        return browser.send(HttpRequest.newBuilder(java.net.URI.create(browser.base + "/login"))
                .header("X-Forwarded-For", forwardedFor).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(SignInBrowser.form(java.util.Map.of("username", user,
                        "password", password, "_csrf", SignInBrowser.csrf(page.body()))))));
    }

    private java.util.List<String> auditedAddresses(HttpResponse<String> response) {
        String requestId = response.headers().firstValue("X-Request-Id").orElseThrow();
        return org.springframework.jdbc.core.simple.JdbcClient.create(dataSource).sql("select convert_from(body, 'UTF8')::jsonb -> 'context' ->> 'ip' from audit.event "
                        + "where convert_from(body, 'UTF8')::jsonb ->> 'request_id' = ?")
                .param(requestId).query(String.class).list();
    }

    private HttpResponse<String> get(String token, String path, String forwardedFor) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + token).GET();
        if (forwardedFor != null) {
            request.header("X-Forwarded-For", forwardedFor);
        }
        return sendWithoutToken(request);
    }
}
