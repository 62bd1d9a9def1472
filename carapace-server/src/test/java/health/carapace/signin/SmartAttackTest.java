package health.carapace.signin;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import health.carapace.testing.RawHttp;
import health.carapace.testing.Refusals;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * The SMART and Bulk Data routes attacked from outside, as they were against a running
 * {@code start-dev} (issue #18): methods and hosts they do not serve, path tricks, forged client
 * assertions, the consent page without its CSRF token, export routes with the wrong kind of caller.
 * Each answer is a refusal in the protocol's own form that echoes nothing and logs nothing of it.
 */
@ExtendWith(OutputCaptureExtension.class)
class SmartAttackTest extends IntegrationTest {

    private static final String JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    @Test
    void discoveryServesOnlyGetToTheConfiguredHost() throws Exception {
        assertThat(sendWithoutToken(HttpRequest.newBuilder(uri("/.well-known/smart-configuration"))
                .POST(HttpRequest.BodyPublishers.ofString("x"))).statusCode()).isEqualTo(401);
        assertThat(sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/.well-known/smart-configuration"))
                .method("DELETE", HttpRequest.BodyPublishers.noBody())).statusCode()).isEqualTo(401);
        RawHttp.Response otherHost = raw("GET /.well-known/smart-configuration HTTP/1.1\r\nHost: evil.example\r\n"
                + "Connection: close\r\n\r\n");
        assertThat(otherHost.status()).isEqualTo(421);
        assertThat(otherHost.body()).doesNotContain("evil.example").doesNotContain("authorization_endpoint");
        for (String trick : List.of("/fhir/.well-known/smart-configuration/../../fhir/Patient",
                "/fhir/.well-known/%2e%2e/Patient", "/fhir/.well-known/smart-configuration;x=y")) {
            RawHttp.Response answer = raw("GET " + trick + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            assertThat(answer.status()).as(trick).isEqualTo(400);
        }
    }

    /**
     * Review F10: the OAuth endpoints in the CapabilityStatement come from the configured public
     * base URL, not from the request (here a Host header without the port, which the host check lets
     * through): an app is never sent to an endpoint the request chose.
     */
    @Test
    void theCapabilityStatementNamesTheConfiguredOAuthEndpointsWhateverTheHostHeader() throws Exception {
        RawHttp.Response metadata = raw("GET /fhir/metadata HTTP/1.1\r\nHost: localhost\r\nAccept: application/fhir+json"
                + "\r\nConnection: close\r\n\r\n");
        assertThat(metadata.status()).isEqualTo(200);
        assertThat(metadata.body()).contains("\"valueUri\":\"" + baseUrl() + "/oauth2/token\"")
                .contains("\"valueUri\":\"" + baseUrl() + "/oauth2/authorize\"");
    }

    @Test
    void forgedClientAssertionsAreInvalidClientWithoutEcho(CapturedOutput output) {
        String big = "a".repeat(40_000);
        Map<String, String> forged = Map.of(
                "alg none", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJzdmMtMSIsInN1YiI6InN2Yy0xIn0.",
                "oversized", big,
                "not a JWT", "attack-" + UUID.randomUUID());
        int logBefore = output.getAll().length();
        for (var attack : forged.entrySet()) {
            HttpResponse<String> answer = token("grant_type=client_credentials&client_assertion_type=" + JWT_BEARER
                    + "&client_assertion=" + attack.getValue());
            assertThat(answer.statusCode()).as(attack.getKey()).isEqualTo(401);
            assertThat(answer.body()).as(attack.getKey()).isEqualTo("{\"error\":\"invalid_client\"}");
        }
        HttpResponse<String> twice = token("grant_type=client_credentials&client_assertion_type=" + JWT_BEARER
                + "&client_assertion=a.b.c&client_assertion=d.e.f");
        assertThat(twice.statusCode()).isEqualTo(401);
        // An assertion beside a secret: one way of authenticating only.
        HttpResponse<String> both = sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString("svc-x:y".getBytes()))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_assertion_type="
                        + JWT_BEARER + "&client_assertion=a.b.c")));
        assertThat(both.statusCode()).isEqualTo(401);
        assertThat(output.getAll().substring(logBefore)).doesNotContain("attack-").doesNotContain("aaaaaaaaaa")
                .doesNotContain("\"level\":\"ERROR\"");
    }

    @Test
    void theConsentPageRefusesAPostWithoutItsCsrfTokenAndHasNothingToApproveWithoutASignIn() {
        SignInBrowser browser = new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
        HttpResponse<String> page = browser.get(baseUrl() + "/login/consent");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("Nothing to approve");
        HttpResponse<String> forged = browser.post(baseUrl() + "/login/consent", Map.of("decision", "allow",
                "patient", UUID.randomUUID().toString()));
        assertThat(forged.statusCode()).isEqualTo(403);
        assertThat(forged.headers().firstValue("Location")).isEmpty();
    }

    @Test
    void exportRoutesRefuseTheWrongCallerAndUnknownMethods() {
        // A client-secret service client may export (roles only); a person may not start one.
        String client = tokenWithRoles("export-attacker", TestPolicy.EVERYTHING);
        HttpResponse<String> post = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/$export"))
                .header("Authorization", "Bearer " + client).header("Prefer", "respond-async")
                .POST(HttpRequest.BodyPublishers.ofString("{}")));
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(Refusals.outcomeOf(post).getIssue()).isNotEmpty();
        HttpResponse<String> group = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Group/" + UUID.randomUUID()
                + "/$export")).header("Authorization", "Bearer " + client).header("Prefer", "respond-async").GET());
        assertThat(group.statusCode()).isIn(400, 404);
        assertThat(sendWithoutToken(HttpRequest.newBuilder(uri("/export/files/" + UUID.randomUUID() + "/part-1-Patient.ndjson.enc"))
                .header("Authorization", "Bearer " + client).GET()).statusCode()).isEqualTo(404);
        assertThat(sendWithoutToken(HttpRequest.newBuilder(uri("/export/jobs/not-a-uuid"))
                .header("Authorization", "Bearer " + client).GET()).statusCode()).isIn(403, 404);
    }

    private HttpResponse<String> token(String form) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)));
    }

    private RawHttp.Response raw(String request) throws Exception {
        try (SSLSocket socket = (SSLSocket) TestInstallation.trustingSslContext(TestInstallation.dataDir())
                .getSocketFactory().createSocket("localhost", port)) {
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            return RawHttp.read(in);
        }
    }
}
