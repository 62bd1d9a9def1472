package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.Users;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Whoever can write {@code iam.sign_in_session*} (the PHI role: a SQL injection, a DBA) cannot
 * carry on someone else's sign-in (review M2, ADR 0037): every stored value is sealed for its
 * session's primary id, session id and attribute name, so a value copied into another session, or
 * a victim's row renamed to the id the attacker's own cookie carries, does not open. That session
 * is treated as ended (its rows deleted, the browser sent back to the start) and the refusal is
 * audited. The cookie itself is {@code __Host-} prefixed, Secure, HttpOnly and SameSite=Lax.
 */
class SignInSessionBindingTest extends IntegrationTest {

    private static final String PASSWORD = "a long enough passphrase";

    @Autowired
    private Users users;

    @Autowired
    private SignInStateSeal seal;

    @Test
    void aVictimsSessionValuesCopiedIntoAnotherSessionAreRefusedEndTheSessionAndAreAudited() {
        Victim victim = victimWaitingForTheSecondFactor();
        Attacker attacker = newAttackerSession();
        long auditedBefore = tamperingAudited();

        // the victim's half-finished sign-in copied, value by value, into the attacker's session
        jdbc().sql("delete from iam.sign_in_session_attributes where session_primary_id = ?")
                .param(attacker.primaryId()).update();
        int copied = jdbc().sql("insert into iam.sign_in_session_attributes (session_primary_id, attribute_name,"
                        + " attribute_bytes) select ?, attribute_name, attribute_bytes from iam.sign_in_session_attributes"
                        + " where session_primary_id = ?")
                .params(attacker.primaryId(), victim.primaryId()).update();
        assertThat(copied).isPositive();

        HttpResponse<String> page = totpPageWith(attacker.cookie());
        assertThat(page.statusCode()).as("the victim's enrolment page, in the attacker's session").isNotEqualTo(200);
        assertThat(page.body()).doesNotContain(victim.name());
        assertThat(page.headers().firstValue("Location")).hasValueSatisfying(to -> assertThat(to).endsWith("/login"));
        assertThat(rows(attacker.primaryId())).as("the attacker's session ended").isZero();
        assertThat(tamperingAudited()).isEqualTo(auditedBefore + 1);

        // the victim's own session is untouched and goes on (control: the values do open where they belong)
        assertThat(totpPageWith(victim.cookie()).statusCode()).isEqualTo(200);
    }

    @Test
    void aVictimsRowRenamedToTheIdTheAttackersCookieCarriesIsRefused() {
        Victim victim = victimWaitingForTheSecondFactor();
        Attacker attacker = newAttackerSession();
        long auditedBefore = tamperingAudited();

        jdbc().sql("delete from iam.sign_in_session where primary_id = ?").param(attacker.primaryId()).update();
        assertThat(jdbc().sql("update iam.sign_in_session set session_id = ? where primary_id = ?")
                .params(attacker.sessionId(), victim.primaryId()).update()).isEqualTo(1);

        HttpResponse<String> page = totpPageWith(attacker.cookie());
        assertThat(page.statusCode()).isNotEqualTo(200);
        assertThat(page.body()).doesNotContain(victim.name());
        assertThat(rows(victim.primaryId())).as("the renamed session ended").isZero();
        assertThat(tamperingAudited()).isEqualTo(auditedBefore + 1);
    }

    @Test
    void theSignInCookiesAreHostPrefixedSecureHttpOnlyAndLax() {
        // the waiting authorization request and the CSRF token (before any password), the session (after)
        SignInBrowser browser = new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
        List<String> headers = new java.util.ArrayList<>();
        browser.seen = response -> headers.addAll(response.headers().allValues("Set-Cookie"));
        String name = "cookie-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(name, Set.of(TestPolicy.CLINICIAN), null);
        assertThat(browser.setPassword(enrolment.link(), PASSWORD).statusCode()).isEqualTo(200);
        assertThat(browser.authorize().statusCode()).isEqualTo(302);
        assertThat(SignInBrowser.location(browser.submitPassword(name, PASSWORD))).endsWith("/login/totp");
        for (String cookie : List.of(SharedBrowserSessions.COOKIE, AuthorizationRequestCookie.COOKIE,
                SignInConfiguration.CSRF_COOKIE)) {
            List<String> set = headers.stream().filter(header -> header.startsWith(cookie + "=")).toList();
            assertThat(set).as(cookie).isNotEmpty();
            assertThat(cookie).startsWith("__Host-");
            for (String header : set) {
                List<String> attributes = List.of(header.split(";\\s*"));
                assertThat(attributes).as(header).contains("Path=/", "Secure", "HttpOnly", "SameSite=Lax");
                assertThat(attributes).as(header).noneMatch(attribute -> attribute.regionMatches(true, 0, "Domain", 0, 6));
            }
        }
    }

    @Test
    void forgedOversizedOrOldNamedCookiesResumeNothingAndEchoNothing() {
        Victim victim = victimWaitingForTheSecondFactor();
        assertThat(totpPageWith(victim.cookie()).statusCode()).as("control").isEqualTo(200);
        // the victim's real value under the cookie's old name, which a sibling subdomain could set
        HttpResponse<String> oldName = sendWithCookieHeader("CARAPACE_SIGNIN=" + victim.cookie(), "/login/totp");
        assertThat(oldName.statusCode()).isNotEqualTo(200);
        for (String forged : List.of("AAAA", "A".repeat(6000), "%00%27%22%3Cscript%3E", victim.cookie() + "x",
                victim.cookie().substring(1))) {
            HttpResponse<String> page = totpPageWith(forged);
            assertThat(page.statusCode()).as("forged cookie").isNotEqualTo(200);
            assertThat(page.body()).doesNotContain(victim.name()).doesNotContain("script");
        }
        assertThat(totpPageWith(victim.cookie()).statusCode()).as("the victim's own, untouched").isEqualTo(200);
    }

    private record Victim(String name, String cookie, String primaryId) {}

    private record Attacker(String cookie, String sessionId, String primaryId) {}

    /** A person who has given the password and is on the TOTP enrolment page. */
    private Victim victimWaitingForTheSecondFactor() {
        String name = "bound-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(name, Set.of(TestPolicy.CLINICIAN), null);
        SignInBrowser browser = new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
        AtomicReference<String> cookie = new AtomicReference<>();
        browser.seen = response -> response.headers().allValues("Set-Cookie").stream()
                .filter(header -> header.startsWith(SharedBrowserSessions.COOKIE + "="))
                .forEach(header -> cookie.set(header.substring(SharedBrowserSessions.COOKIE.length() + 1,
                        header.indexOf(';'))));
        assertThat(browser.setPassword(enrolment.link(), PASSWORD).statusCode()).isEqualTo(200);
        assertThat(browser.authorize().statusCode()).isEqualTo(302);
        assertThat(SignInBrowser.location(browser.submitPassword(name, PASSWORD))).endsWith("/login/totp");
        return new Victim(name, cookie.get(), primaryIdOf(sessionIdIn(cookie.get())));
    }

    /**
     * A stranger's own, valid session: since no session is begun before a password is accepted
     * (ADR 0042), the stranger's own account and password.
     */
    private Attacker newAttackerSession() {
        Victim self = victimWaitingForTheSecondFactor();
        String cookie = self.cookie();
        String sessionId = sessionIdIn(cookie);
        return new Attacker(cookie, sessionId, primaryIdOf(sessionId));
    }

    private String sessionIdIn(String cookie) {
        return new String(seal.open(Base64.getUrlDecoder().decode(cookie), SharedBrowserSessions.COOKIE_CONTEXT)
                .orElseThrow(), StandardCharsets.US_ASCII);
    }

    private String primaryIdOf(String sessionId) {
        return jdbc().sql("select primary_id from iam.sign_in_session where session_id = ?").param(sessionId)
                .query(String.class).single().strip();
    }

    private long rows(String primaryId) {
        return jdbc().sql("select count(*) from iam.sign_in_session where primary_id = ?").param(primaryId)
                .query(Long.class).single();
    }

    private long tamperingAudited() {
        return jdbc().sql("select count(*) from audit.event where action = 'denied' and position(? in body) > 0")
                .param(SealedSignInSessions.TAMPERED.getBytes(StandardCharsets.UTF_8)).query(Long.class).single();
    }

    private JdbcClient jdbc() {
        return JdbcClient.create(dataSource);
    }

    private HttpResponse<String> totpPageWith(String cookie) {
        return send(cookie, "/login/totp");
    }

    private HttpResponse<String> send(String cookie, String path) {
        return sendWithCookieHeader(cookie == null ? null : SharedBrowserSessions.COOKIE + "=" + cookie, path);
    }

    /** A GET in a fresh client that sends only the given Cookie header (or none). */
    private HttpResponse<String> sendWithCookieHeader(String cookieHeader, String path) {
        HttpClient fresh = HttpClient.newBuilder().sslContext(TestInstallation.trustingSslContext(TestInstallation.dataDir()))
                .followRedirects(HttpClient.Redirect.NEVER).build();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl() + path)).GET();
        if (cookieHeader != null) {
            request.header("Cookie", cookieHeader);
        }
        try {
            return fresh.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
