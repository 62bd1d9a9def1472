package health.carapace.console;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.console.internal.StartedDrills;
import health.carapace.signin.AccessReviewSheet;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.RawHttp;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationContext;

/**
 * The access review, the client actions and the drill run attacked as an outsider and as a lured
 * insider would, found by attacking a running start-dev: actions without the CSRF token or with
 * another session's; the access review opened from another site (it is an audited disclosure);
 * a live session's cookie under another Host; other methods and path tricks. None reads the
 * review, disables a client or starts a drill.
 */
class ConsolePagesAttackTest extends ConsoleTesting {

    @Autowired
    private ApplicationContext context;

    @Test
    void actionsWithoutTheirCsrfTokenOrWithAnotherSessionsChangeNothing() {
        ServiceClients.Credentials feed = client("console-attacked-feed", TestPolicy.EVERYTHING);
        ConsoleVisitor admin = signedIn("admin");
        ConsoleVisitor other = signedIn("admin");
        String foreign = ConsoleVisitor.metaCsrf(other.get("/console").body());
        for (Map<String, String> csrf : List.of(Map.<String, String>of(), Map.of("_csrf", "forged-" + UUID.randomUUID()),
                Map.of("_csrf", foreign))) {
            assertThat(admin.post("/console/users/clients/" + feed.clientId() + "/disable", csrf).statusCode()).isEqualTo(403);
            Map<String, String> run = new java.util.HashMap<>(csrf);
            run.put("scenario", "vip-snooping");
            int runStatus = admin.post("/console/drills/run", run).statusCode();
            // what matters first: no drill started, seen where a console run starts (a drill writes its
            // audit events only once it plays, so their absence right after the request proves nothing)
            assertThat(StartedDrills.last(context).map(StartedDrills.Started::by))
                    .as("no drill started (%s)", csrf.keySet()).isNotEqualTo(java.util.Optional.of(admin.user));
            assertThat(runStatus).isEqualTo(403);
            Map<String, String> review = new java.util.HashMap<>(csrf);
            review.put("outcome", "appropriate");
            assertThat(admin.post("/console/access-review/break-glass/" + UUID.randomUUID(), review).statusCode())
                    .isEqualTo(403);
        }
        assertThat(serviceClients.find(feed.clientId()).orElseThrow().disabled()).isFalse();
        assertThat(events(admin.user, "admin_change")).as("nothing changed, no drill started").isEmpty();
        assertThat(events(admin.user, "denied")).hasSizeGreaterThanOrEqualTo(9);
    }

    @Test
    void theAccessReviewOpenedFromAnotherSiteIsNotReadAndRecordsNoReading() {
        ConsoleVisitor officer = signedIn("privacy-officer");
        HttpResponse<String> lured = officer.getFromAnotherSite("/console/access-review?days=3660");
        assertThat(lured.statusCode()).isEqualTo(303);
        assertThat(lured.body()).doesNotContain("Granted versus used");
        assertThat(readings(officer.user)).isZero();
        assertThat(officer.get("/console/access-review").statusCode()).isEqualTo(200);
        assertThat(readings(officer.user)).isEqualTo(1);
    }

    @Test
    void aLiveSessionUnderAnotherHostOtherMethodsAndPathTricksGetNoReview() throws IOException {
        ConsoleVisitor officer = signedIn("privacy-officer");
        String cookie = officer.lastCallback.headers().allValues("Set-Cookie").stream()
                .filter(value -> value.startsWith("__Host-carapace-console=")).findFirst().orElseThrow().split(";", 2)[0];
        for (String host : List.of("evil.example", "localhost.evil.example", "localhost:x@evil")) {
            RawHttp.Response response = raw("GET /console/access-review HTTP/1.1\r\nHost: " + host + "\r\nCookie: " + cookie
                    + "\r\nConnection: close\r\n\r\n");
            assertThat(response.status()).as(host).isIn(400, 421);
            assertThat(response.body()).as(host).doesNotContain("Access review").doesNotContain("evil");
        }
        for (String path : List.of("/console/access-review/..;/users", "/console/access-review/%2e%2e/users",
                "/console/users/clients/..%2f..%2faccess-review/disable", "/console/access-review;days=1",
                "/console/Access-Review")) {
            RawHttp.Response response = raw("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nCookie: " + cookie
                    + "\r\nConnection: close\r\n\r\n");
            assertThat(response.status()).as(path).isIn(400, 404);
            assertThat(response.body()).as(path).doesNotContain("Granted versus used");
        }
        String token = ConsoleVisitor.metaCsrf(officer.get("/console").body());
        for (String method : List.of("PUT", "DELETE", "PATCH")) {
            HttpResponse<String> response = officer.browser.send(HttpRequest.newBuilder(
                            URI.create(baseUrl() + "/console/access-review")).header("X-CSRF-TOKEN", token)
                    .method(method, HttpRequest.BodyPublishers.noBody()));
            assertThat(response.statusCode()).as(method).isIn(403, 405);
        }
        assertThat(officer.get("/console/drills/run").statusCode()).as("a run is a POST only").isEqualTo(405);
        assertThat(readings(officer.user)).as("no reading but none was made").isZero();
    }

    private long readings(String principal) {
        return events(principal, "exported").stream()
                .filter(event -> event.resource().equals(AccessReviewSheet.RESOURCE)).count();
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
