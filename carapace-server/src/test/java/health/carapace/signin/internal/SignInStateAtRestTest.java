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
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.commons.codec.binary.Base32;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The sign-in state every node shares through PostgreSQL (ADR 0030) is useless to whoever reads
 * the database: no code or token in clear (only SHA-256 hashes to find them, the rest sealed),
 * no TOTP seed in clear while it is being enrolled, and no session id from the table resumes a
 * sign-in, because the browser's cookie carries the id sealed. A forged cookie is no cookie.
 */
class SignInStateAtRestTest extends IntegrationTest {

    private static final String PASSWORD = "a long enough passphrase";

    @Autowired
    private Users users;

    @Test
    void theDatabaseHoldsNoCodeTokenOrSeedInClearAndTheStoredSessionIdResumesNothing() {
        String name = "at-rest-" + UUID.randomUUID().toString().substring(0, 8);
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
        // no id stored in the table resumes the sign-in, nor does an altered or a garbage cookie
        assertThat(cookie.get()).isNotBlank();
        List<String> storedIds = JdbcClient.create(dataSource).sql("select session_id from iam.sign_in_session")
                .query(String.class).list();
        assertThat(storedIds).isNotEmpty().doesNotContain(cookie.get());
        for (String id : storedIds) {
            assertThat(totpPageWith(id.strip())).as("the stored session id as a cookie").isNotEqualTo(200);
        }
        assertThat(totpPageWith("AAAA" + cookie.get().substring(4))).as("an altered cookie").isNotEqualTo(200);
        assertThat(totpPageWith("%00'\"<>")).as("a garbage cookie").isNotEqualTo(200);
        // the real (sealed) cookie does (the page shows a new seed each time: this one is enrolled)
        String secret = browser.enrolmentSecret();

        // mid-sign-in: the seed being enrolled is in the session, sealed
        byte[] seed = new Base32().decode(secret);
        assertThat(count("select count(*) from iam.sign_in_session_attributes where position(? in attribute_bytes) > 0",
                seed)).as("TOTP seed in clear").isZero();

        String code = browser.followToCode(browser.submitEnrolmentCode(browser.nextCode(secret)));
        SignInBrowser.Tokens tokens = SignInBrowser.tokens(browser.exchange(code, browser.verifier));

        for (String value : List.of(code, tokens.accessToken(), tokens.refreshToken())) {
            byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
            assertThat(count("select count(*) from iam.authorization_grant where position(? in sealed) > 0", bytes))
                    .as("a token in clear").isZero();
            assertThat(count("select count(*) from iam.sign_in_session_attributes where position(? in attribute_bytes) > 0",
                    bytes)).as("a token in clear in a session").isZero();
        }
        assertThat(count("select count(*) from iam.authorization_token where token_hash = sha256(?) and kind = 'refresh'",
                tokens.refreshToken().getBytes(StandardCharsets.US_ASCII))).as("found by its hash").isEqualTo(1);
        // and it works, found by that hash
        assertThat(SignInBrowser.tokens(browser.refresh(tokens.refreshToken())).accessToken()).isNotBlank();
    }

    private long count(String sql, byte[] value) {
        return JdbcClient.create(dataSource).sql(sql).param(value).query(Long.class).single();
    }

    /** The TOTP enrolment page in a fresh client that sends only the given sign-in cookie. */
    private int totpPageWith(String cookieValue) {
        HttpClient fresh = HttpClient.newBuilder().sslContext(TestInstallation.trustingSslContext(TestInstallation.dataDir()))
                .followRedirects(HttpClient.Redirect.NEVER).build();
        try {
            return fresh.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/login/totp"))
                    .header("Cookie", SharedBrowserSessions.COOKIE + "=" + cookieValue).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
