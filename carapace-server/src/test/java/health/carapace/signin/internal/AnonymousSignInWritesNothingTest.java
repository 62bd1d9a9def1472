package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.Users;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.RawHttp;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A visitor who has not given a password writes nothing on the server (ADR 0042, review L7): the
 * authorization request waits in a sealed cookie of the browser, the sign-in page's CSRF token in
 * another, so a flood of anonymous authorization requests, sign-in pages and wrong passwords, by
 * a client or by hand over raw sockets with odd Host headers and encodings, leaves the sign-in
 * session tables as they were. A session row is written once a password is accepted and goes
 * with the code, and the checks of the authorization request (PKCE S256, redirect URI, client)
 * are as strict as before: a refused request is not kept either.
 */
class AnonymousSignInWritesNothingTest extends IntegrationTest {

    private static final String PASSWORD = "a long enough passphrase";

    @Autowired
    private Users users;

    @Test
    void floodsOfAnonymousAuthorizationRequestsSignInPagesAndWrongPasswordsWriteNoSessionRow() throws IOException {
        long since = System.currentTimeMillis();
        long[] before = sessionRows();
        SignInBrowser visitor = browser();
        for (int i = 0; i < 60; i++) {
            visitor.newBrowser();
            HttpResponse<String> authorize = visitor.authorize();
            assertThat(authorize.statusCode()).isEqualTo(302);
            assertThat(SignInBrowser.location(authorize)).endsWith("/login");
            assertThat(authorize.headers().allValues("Set-Cookie"))
                    .anyMatch(cookie -> cookie.startsWith(AuthorizationRequestCookie.COOKIE + "="))
                    .noneMatch(cookie -> cookie.startsWith(SharedBrowserSessions.COOKIE + "="));
            HttpResponse<String> page = visitor.get(baseUrl() + "/login");
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).as("the waiting request names its app").contains("id=\"asking-app\"");
            assertThat(page.headers().allValues("Set-Cookie"))
                    .noneMatch(cookie -> cookie.startsWith(SharedBrowserSessions.COOKIE + "="));
        }
        // wrong passwords (two: the address's own back-off is left to its tests)
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> wrong = visitor.submitPassword("flood-" + UUID.randomUUID(), "not the password at all");
            assertThat(wrong.statusCode()).isEqualTo(200);
            assertThat(wrong.body()).contains(LoginPages.SIGN_IN_FAILED);
        }

        // by hand: odd Host headers, encodings and request targets
        String url = visitor.authorizeUrl(Map.of("code_challenge", SignInBrowser.s256("verifier-" + UUID.randomUUID()),
                "code_challenge_method", "S256"));
        String query = url.substring(url.indexOf('?') + 1);
        for (String host : List.of("localhost", "localhost:" + port, "evil.example", "127.0.0.1", "[::1]", "localhost.",
                "LOCALHOST", "localhost:1", "")) {
            RawHttp.Response response = raw("GET /oauth2/authorize?" + query + " HTTP/1.1\r\nHost: " + host
                    + "\r\nConnection: close\r\n\r\n");
            assertThat(response.status()).as(host).isBetween(300, 499);
            assertThat(response.header("set-cookie").orElse("")).as(host).doesNotContain(SharedBrowserSessions.COOKIE);
        }
        for (String target : List.of("/oauth2/authorize?" + query, "/oauth2/%61uthorize?" + query,
                "/oauth2//authorize?" + query, "/oauth2/authorize/?" + query, "/oauth2/authorize;x=y?" + query,
                "/oauth2/./authorize?" + query, "https://localhost:" + port + "/oauth2/authorize?" + query,
                "/oauth2/authorize?" + query + "&state=second&state=third", "/oauth2/authorize?" + query.replace("&", "&&"))) {
            RawHttp.Response response = raw("GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            assertThat(response.status()).as(target).isBetween(300, 499);
            assertThat(response.header("set-cookie").orElse("")).as(target).doesNotContain(SharedBrowserSessions.COOKIE);
        }
        RawHttp.Response http10 = raw("GET /oauth2/authorize?" + query + " HTTP/1.0\r\n\r\n");
        assertThat(http10.status()).isBetween(300, 499);

        assertThat(rowsSince(since)).as("sessions begun during the flood").isZero();
        long[] after = sessionRows();
        assertThat(after[0]).as("session rows (expired ones may have been pruned)").isLessThanOrEqualTo(before[0]);
        assertThat(after[1]).as("attribute rows").isLessThanOrEqualTo(before[1]);
    }

    @Test
    void anAuthorizationRequestTheEndpointRefusesIsNotKeptAndWritesNothing() {
        long since = System.currentTimeMillis();
        SignInBrowser visitor = browser();
        String challenge = SignInBrowser.s256("a verifier that is long enough to be one " + UUID.randomUUID());
        for (Map<String, String> refused : List.of(
                Map.<String, String>of(),                                                   // PKCE missing
                Map.of("code_challenge", challenge, "code_challenge_method", "plain"),      // not S256
                Map.of("code_challenge", challenge, "code_challenge_method", "S256", "redirect_uri",
                        "https://evil.example/callback"),                                   // unregistered redirect
                Map.of("code_challenge", challenge, "code_challenge_method", "S256", "client_id", "no-such-app"))) {
            visitor.newBrowser();
            HttpResponse<String> response = visitor.get(visitor.authorizeUrl(refused));
            assertThat(response.statusCode()).as("%s", refused).isNotEqualTo(200);
            assertThat(response.headers().firstValue("Location").orElse("")).as("%s", refused).doesNotEndWith("/login");
            assertThat(response.headers().allValues("Set-Cookie")).as("%s", refused)
                    .noneMatch(cookie -> cookie.startsWith(AuthorizationRequestCookie.COOKIE + "=")
                            || cookie.startsWith(SharedBrowserSessions.COOKIE + "="));
        }
        assertThat(rowsSince(since)).isZero();
    }

    @Test
    void theSessionRowIsWrittenOnceThePasswordIsAcceptedAndGoesWithTheCode() {
        String name = "anon-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(name, Set.of(TestPolicy.CLINICIAN), null);
        SignInBrowser browser = browser();
        assertThat(browser.setPassword(enrolment.link(), PASSWORD).statusCode()).isEqualTo(200);
        long since = System.currentTimeMillis();

        assertThat(browser.authorize().statusCode()).isEqualTo(302);
        assertThat(rowsSince(since)).as("after the authorization request").isZero();
        HttpResponse<String> afterPassword = browser.submitPassword(name, PASSWORD);
        assertThat(SignInBrowser.location(afterPassword)).endsWith("/login/totp");
        assertThat(afterPassword.headers().allValues("Set-Cookie"))
                .anyMatch(cookie -> cookie.startsWith(SharedBrowserSessions.COOKIE + "="));
        assertThat(rowsSince(since)).as("after the password: the session and its values").isPositive();

        String secret = browser.enrolmentSecret();
        HttpResponse<String> afterCode = browser.submitEnrolmentCode(browser.nextCode(secret));
        String code = browser.followToCode(afterCode);
        assertThat(rowsSince(since)).as("after the code").isZero();
        assertThat(SignInBrowser.tokens(browser.exchange(code, browser.verifier)).accessToken()).isNotBlank();
    }

    private SignInBrowser browser() {
        return new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
    }

    /** Rows of the session table and of its attributes. */
    private long[] sessionRows() {
        JdbcClient jdbc = JdbcClient.create(dataSource);
        return new long[] {
            jdbc.sql("select count(*) from iam.sign_in_session").query(Long.class).single(),
            jdbc.sql("select count(*) from iam.sign_in_session_attributes").query(Long.class).single()};
    }

    /** Session rows begun since {@code millis}, with their attribute rows. */
    private long rowsSince(long millis) {
        return JdbcClient.create(dataSource).sql("""
                select (select count(*) from iam.sign_in_session where creation_time >= ?)
                     + (select count(*) from iam.sign_in_session_attributes a join iam.sign_in_session s
                        on s.primary_id = a.session_primary_id where s.creation_time >= ?)""")
                .params(millis, millis).query(Long.class).single();
    }

    private RawHttp.Response raw(String request) throws IOException {
        try (SSLSocket socket = (SSLSocket) TestInstallation.trustingSslContext(TestInstallation.dataDir())
                .getSocketFactory().createSocket("localhost", port)) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return RawHttp.read(socket.getInputStream());
        }
    }
}
