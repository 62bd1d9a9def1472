package health.carapace.console;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.RawHttp;
import health.carapace.testing.TestInstallation;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * Attacks on the running console from outside, over raw sockets where the HTTP client would not
 * send the request: other Host headers with a live session, forged and malformed session cookies,
 * a stolen session's cookie replayed after sign-out, and open-redirect attempts through the
 * sign-in's return address. None yields a page, a session or a redirect off the console.
 */
class ConsoleRouteAttackTest extends ConsoleTesting {

    @Test
    void aLiveSessionIsServedOnlyUnderTheServersOwnHostName() throws IOException {
        ConsoleVisitor officer = signedIn("privacy-officer");
        String cookie = sessionCookie(officer);
        for (String host : List.of("evil.example", "localhost.evil.example", "127.0.0.1.evil.example", "localhost:x@evil")) {
            RawHttp.Response response = raw("GET /console HTTP/1.1\r\nHost: " + host + "\r\nCookie: " + cookie
                    + "\r\nConnection: close\r\n\r\n");
            assertThat(response.status()).as(host).isIn(400, 421);
            assertThat(response.body()).as(host).doesNotContain("Dashboard").doesNotContain(officer.user);
        }
        assertThat(raw("GET /console HTTP/1.1\r\nHost: localhost\r\nCookie: " + cookie + "\r\nConnection: close\r\n\r\n")
                .status()).as("the same cookie under the server's name").isEqualTo(200);
    }

    @Test
    void forgedMalformedAndReplayedSessionCookiesGetNoPage() throws IOException {
        String random = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[32]);
        for (String value : List.of(random, "x", "' or 1=1 --", "A".repeat(5000), random + random)) {
            RawHttp.Response response = raw("GET /console/audit HTTP/1.1\r\nHost: localhost\r\nCookie: "
                    + "__Host-carapace-console=" + value + "\r\nConnection: close\r\n\r\n");
            String shown = value.length() > 20 ? value.substring(0, 20) : value;
            assertThat(response.status()).as(shown).isIn(302, 400);
            // no console page and no redirect into the console: a sign-in at the authorization server, or nothing
            if (response.status() == 302) {
                assertThat(response.header("location")).as(shown).hasValueSatisfying(location ->
                        assertThat(location).startsWith(baseUrl() + "/oauth2/authorize?"));
            } else {
                assertThat(response.header("location")).as(shown).isEmpty();
            }
            assertThat(response.body()).doesNotContain("Audit explorer");
        }
        ConsoleVisitor officer = signedIn("privacy-officer");
        String cookie = sessionCookie(officer);
        String token = ConsoleVisitor.formCsrf(officer.get("/console").body());
        officer.post("/console/sign-out", java.util.Map.of("_csrf", token));
        RawHttp.Response replayed = raw("GET /console HTTP/1.1\r\nHost: localhost\r\nCookie: " + cookie
                + "\r\nConnection: close\r\n\r\n");
        assertThat(replayed.status()).as("a signed-out session's cookie").isEqualTo(302);
        assertThat(replayed.header("location").orElse("")).contains("/oauth2/authorize?");
    }

    @Test
    void theSignInReturnsOnlyToAConsolePathNeverToAnotherSite() {
        ConsoleVisitor visitor = enrolled("privacy-officer");
        HttpResponse<String> page = visitor.signIn("/console/audit?next=https://evil.example");
        assertThat(visitor.returnedTo).as("the path asked for, without its query").isEqualTo("/console/audit");
        assertThat(page.statusCode()).isEqualTo(200);

        visitor.browser.newBrowser();
        visitor.signIn("/console/incidents/%3Cx%3E");
        assertThat(visitor.returnedTo).as("a path that is not a console route: the dashboard").isEqualTo("/console");

        // a callback with a code from elsewhere and a state this browser did not start
        HttpResponse<String> stolen = visitor.get(ConsoleApp.CALLBACK + "?code=" + UUID.randomUUID() + UUID.randomUUID()
                + "&state=" + UUID.randomUUID());
        assertThat(stolen.statusCode()).isEqualTo(400);
    }

    private static String sessionCookie(ConsoleVisitor visitor) {
        return visitor.lastCallback.headers().allValues("Set-Cookie").stream()
                .filter(cookie -> cookie.startsWith("__Host-carapace-console=")).findFirst().orElseThrow()
                .split(";", 2)[0];
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
