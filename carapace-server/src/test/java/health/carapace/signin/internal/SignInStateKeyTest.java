package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.crypto.KeyRotation;
import health.carapace.crypto.RecordCipher;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The sign-in state key (ADR 0042) through the server's own doors: it rotates without signing
 * anyone out (a sign-in begun before completes after, everything new is sealed under the new key,
 * each value naming its key), and a sealed value under a key id the installation does not hold, or
 * altered, is refused with the sign-in pages' own error page or an OAuth error, audited, and
 * echoes nothing. The key's expiry (a replaced key destroyed once its values have expired) is
 * {@code crypto.internal.StateKeysetsTest}'s.
 */
class SignInStateKeyTest extends IntegrationTest {

    private static final String PASSWORD = "a long enough passphrase";

    @Autowired
    private Users users;

    @Autowired
    private KeyRotation rotation;

    @Test
    void aSignInBegunBeforeTheKeyRotatesCompletesAfterItAndNewStateIsSealedUnderTheNewKey() {
        Person person = enrolled();
        assertThat(person.browser().authorize().statusCode()).isEqualTo(302);
        int before = keyIdOf(person.cookies().get(AuthorizationRequestCookie.COOKIE));
        assertThat(SignInBrowser.location(person.browser().submitPassword(person.name(), PASSWORD))).endsWith("/login/totp");

        List<String> rotated = rotation.rotateStateKeys("cli:test");
        String prefix = "state/" + SignInStateSeal.KEYSET + "#";
        assertThat(rotated).anyMatch(key -> key.startsWith(prefix));
        long after = Long.parseLong(rotated.stream().filter(key -> key.startsWith(prefix)).findFirst().orElseThrow()
                .substring(prefix.length()));
        assertThat(after).isNotEqualTo(Integer.toUnsignedLong(before));

        // the session sealed under the old key goes on; the code, the token and a refresh work
        String secret = person.browser().enrolmentSecret();
        String code = person.browser().followToCode(person.browser().submitEnrolmentCode(person.browser().nextCode(secret)));
        SignInBrowser.Tokens tokens = SignInBrowser.tokens(person.browser().exchange(code, person.browser().verifier));
        assertThat(SignInBrowser.tokens(person.browser().refresh(tokens.refreshToken())).accessToken()).isNotBlank();
        // and what is sealed now names the new key
        person.browser().newBrowser();
        assertThat(person.browser().authorize().statusCode()).isEqualTo(302);
        assertThat(Integer.toUnsignedLong(keyIdOf(person.cookies().get(AuthorizationRequestCookie.COOKIE))))
                .isEqualTo(after);
    }

    @Test
    void aWaitingRequestUnderAKeyIdNotHeldHereIsRefusedWithThePagesErrorAuditedAndEchoesNothing() {
        Person person = enrolled();
        assertThat(person.browser().authorize().statusCode()).isEqualTo(302);
        String cookie = person.cookies().get(AuthorizationRequestCookie.COOKIE);
        long audited = audited(SignInStateRefusals.UNKNOWN_KEY);

        HttpResponse<String> page = loginPageWith(withOtherKeyId(cookie));

        assertRefusedPage(page, cookie, person.browser().state);
        assertThat(audited(SignInStateRefusals.UNKNOWN_KEY)).isEqualTo(audited + 1);
        // control: the cookie as sealed is a sign-in page naming the app
        HttpResponse<String> control = loginPageWith(cookie);
        assertThat(control.statusCode()).isEqualTo(200);
        assertThat(control.body()).contains("id=\"asking-app\"");
    }

    @Test
    void anAlteredOrForgedWaitingRequestIsRefusedTheSameWayAndAudited() {
        Person person = enrolled();
        assertThat(person.browser().authorize().statusCode()).isEqualTo(302);
        String cookie = person.cookies().get(AuthorizationRequestCookie.COOKIE);
        assertThat(SignInBrowser.location(person.browser().submitPassword(person.name(), PASSWORD))).endsWith("/login/totp");
        String session = person.cookies().get(SharedBrowserSessions.COOKIE);
        byte[] altered = Base64.getUrlDecoder().decode(cookie);
        altered[altered.length - 1] ^= 0x01;
        String random = Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[64]);
        // the session cookie, sealed by this installation for another place, is no waiting request either
        for (String forged : List.of(Base64.getUrlEncoder().withoutPadding().encodeToString(altered), random,
                "%%not-base64%%", cookie.substring(8), "AQ", session)) {
            long audited = audited(SignInStateRefusals.REQUEST_FORGED);
            assertRefusedPage(loginPageWith(forged), cookie, person.browser().state);
            assertThat(audited(SignInStateRefusals.REQUEST_FORGED)).as(forged).isEqualTo(audited + 1);
        }
        // nor is the waiting request a session
        long audited = audited(SignInStateRefusals.COOKIE_FORGED);
        HttpResponse<String> asSession = get("/login/totp", SharedBrowserSessions.COOKIE + "=" + cookie);
        assertThat(asSession.statusCode()).isEqualTo(303);
        assertThat(asSession.body()).doesNotContain(person.name());
        assertThat(audited(SignInStateRefusals.COOKIE_FORGED)).isEqualTo(audited + 1);
    }

    @Test
    void anAuthorizationSealedUnderAKeyIdNotHeldHereIsAnInvalidGrantAuditedAndEchoesNothing() {
        Person person = enrolled();
        assertThat(person.browser().authorize().statusCode()).isEqualTo(302);
        person.browser().submitPassword(person.name(), PASSWORD);
        String secret = person.browser().enrolmentSecret();
        String code = person.browser().followToCode(person.browser().submitEnrolmentCode(person.browser().nextCode(secret)));
        SignInBrowser.Tokens tokens = SignInBrowser.tokens(person.browser().exchange(code, person.browser().verifier));
        long audited = audited(SignInStateRefusals.UNKNOWN_KEY);

        // the stored authorization now names a key id this installation does not hold
        assertThat(JdbcClient.create(dataSource).sql("""
                update iam.authorization_grant set sealed = set_byte(sealed, 4, get_byte(sealed, 4) # 1)
                where id = (select authorization_id from iam.authorization_token where token_hash = sha256(?))""")
                .param(tokens.refreshToken().getBytes(StandardCharsets.US_ASCII)).update()).isEqualTo(1);

        HttpResponse<String> refused = person.browser().refresh(tokens.refreshToken());
        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(refused.body()).contains("invalid_grant").doesNotContain(tokens.refreshToken());
        assertThat(audited(SignInStateRefusals.UNKNOWN_KEY)).isGreaterThan(audited);
    }

    @Test
    void theSessionCookieReplayedAfterTheCodeResumesNothing() {
        Person person = enrolled();
        assertThat(person.browser().authorize().statusCode()).isEqualTo(302);
        person.browser().submitPassword(person.name(), PASSWORD);
        String session = person.cookies().get(SharedBrowserSessions.COOKIE);
        String secret = person.browser().enrolmentSecret();
        person.browser().followToCode(person.browser().submitEnrolmentCode(person.browser().nextCode(secret)));

        HttpResponse<String> replayed = get("/login/totp", SharedBrowserSessions.COOKIE + "=" + session);
        assertThat(replayed.statusCode()).isEqualTo(303);
        assertThat(replayed.headers().firstValue("Location")).hasValueSatisfying(to -> assertThat(to).endsWith("/login"));
        assertThat(replayed.body()).doesNotContain(person.name());
    }

    private void assertRefusedPage(HttpResponse<String> page, String cookie, String state) {
        assertThat(page.statusCode()).isEqualTo(400);
        assertThat(page.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        assertThat(page.body()).contains(LoginPages.REQUEST_INVALID.substring(0, 30))
                .doesNotContain(cookie).doesNotContain(state).doesNotContain("Exception").doesNotContain("<form");
        assertThat(page.headers().allValues("Set-Cookie")).as("the refused value is forgotten")
                .anyMatch(set -> set.startsWith(AuthorizationRequestCookie.COOKIE + "=;") && set.contains("Max-Age=0"));
    }

    private record Person(String name, SignInBrowser browser, Map<String, String> cookies) {}

    /** A new person with a password, in a browser whose latest cookies (by name) are kept. */
    private Person enrolled() {
        String name = "state-key-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(name, Set.of(TestPolicy.CLINICIAN), null);
        SignInBrowser browser = new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
        Map<String, String> cookies = new HashMap<>();
        browser.seen = response -> response.headers().allValues("Set-Cookie").forEach(header -> {
            int equals = header.indexOf('=');
            int end = header.indexOf(';');
            cookies.put(header.substring(0, equals), header.substring(equals + 1, end < 0 ? header.length() : end));
        });
        assertThat(browser.setPassword(enrolment.link(), PASSWORD).statusCode()).isEqualTo(200);
        return new Person(name, browser, cookies);
    }

    private static int keyIdOf(String cookie) {
        Integer id = RecordCipher.keyIdOf(Base64.getUrlDecoder().decode(cookie));
        assertThat(id).as("a key id in the sealed value").isNotNull();
        return id;
    }

    private static String withOtherKeyId(String cookie) {
        byte[] sealed = Base64.getUrlDecoder().decode(cookie);
        sealed[4] ^= 0x01;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(sealed);
    }

    private long audited(String reason) {
        return JdbcClient.create(dataSource).sql("select count(*) from audit.event where action = 'denied'"
                        + " and position(? in body) > 0")
                .param(reason.getBytes(StandardCharsets.UTF_8)).query(Long.class).single();
    }

    private HttpResponse<String> loginPageWith(String requestCookie) {
        return get("/login", AuthorizationRequestCookie.COOKIE + "=" + requestCookie);
    }

    /** A GET in a fresh client that sends only the given Cookie header. */
    private HttpResponse<String> get(String path, String cookieHeader) {
        HttpClient fresh = HttpClient.newBuilder().sslContext(TestInstallation.trustingSslContext(TestInstallation.dataDir()))
                .followRedirects(HttpClient.Redirect.NEVER).build();
        try {
            return fresh.send(HttpRequest.newBuilder(URI.create(baseUrl() + path)).header("Cookie", cookieHeader).GET()
                    .build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
