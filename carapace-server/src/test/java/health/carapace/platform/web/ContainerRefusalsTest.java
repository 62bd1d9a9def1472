package health.carapace.platform.web;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import health.carapace.testing.RawHttp;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestInstallation;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import javax.net.ssl.SSLSocket;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;

/**
 * What the container refuses before any application code runs (or what no route answers) is
 * still answered by Carapace: a FHIR OperationOutcome in JSON with the same security headers as
 * every other response, and nothing of the offending request echoed. Requests that HTTP clients
 * refuse to send are written by hand over TLS.
 */
class ContainerRefusalsTest extends IntegrationTest {

    private final String canary = "Qzcontainer" + UUID.randomUUID().toString().replace("-", "");

    @Test
    void anEncodedSlashInThePathIsAnsweredWithAnOutcome() throws IOException {
        assertOurs(raw("GET /fhir/" + canary + "%2F..%2FPatient HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400);
    }

    @Test
    void anEncodedBackslashInThePathIsAnsweredWithAnOutcome() throws IOException {
        assertOurs(raw("GET /fhir/" + canary + "%5C..%5CPatient HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400);
    }

    @Test
    void anEncodedNulInThePathIsAnsweredWithAnOutcome() throws IOException {
        assertOurs(raw("GET /fhir/Patient/" + canary + "%00 HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400);
    }

    @Test
    @org.junit.jupiter.api.extension.ExtendWith(org.springframework.boot.test.system.OutputCaptureExtension.class)
    void aRawNonAsciiByteInTheRequestLineIsAnsweredWithAnOutcomeAndNoErrorLine(
            org.springframework.boot.test.system.CapturedOutput output) throws IOException {
        // Anyone can send this without a token: a client error, not an alert (found in review).
        assertOurs(raw("GET /fhir/metadata?" + canary + "=\u00fc HTTP/1.1\r\nHost: localhost\r\n\r\n"), 400);
        assertThat(output.getAll()).contains("The container refused a request it could not parse")
                .doesNotContain("\"level\":\"ERROR\",\"logger\":\"health.carapace.platform.web.ContainerErrorReport\"")
                .doesNotContain(canary);
    }

    @Test
    void aSixteenKilobyteUrlIsAnsweredWithAnOutcome() throws IOException {
        String longPath = "/fhir/Patient?family=" + canary + "x".repeat(16 * 1024);
        RawHttp.Response response = raw("GET " + longPath + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assertOurs(response, response.status());
        assertThat(response.status()).isIn(400, 414);
    }

    @Test
    void aOneMegabyteHeaderIsAnsweredWithAnOutcome() throws IOException {
        String header = "X-Padding: " + canary + "y".repeat(1024 * 1024) + "\r\n";
        RawHttp.Response response = raw("GET /fhir/metadata HTTP/1.1\r\nHost: localhost\r\n" + header + "\r\n");
        assertOurs(response, response.status());
        assertThat(response.status()).isIn(400, 431);
    }

    @Test
    void anHttp11RequestWithoutHostIsAnsweredWithAnOutcome() throws IOException {
        assertOurs(raw("GET /fhir/metadata?" + canary + " HTTP/1.1\r\nX-Probe: " + canary + "\r\n\r\n"), 400);
    }

    @Test
    void traceIsAnsweredWithAnOutcome() throws IOException {
        assertOurs(raw("TRACE /fhir/Patient?" + canary + " HTTP/1.1\r\nHost: localhost\r\nX-Probe: " + canary
                + "\r\n\r\n"), 405);
    }

    @Test
    void propfindIsAnsweredWithAnOutcome() throws IOException {
        assertOurs(raw("PROPFIND /fhir/Patient?" + canary + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"),
                405);
    }

    @Test
    void anInventedMethodIsAnsweredWithAnOutcome() throws IOException {
        assertOurs(raw("BREW /fhir/" + canary + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"), 405);
    }

    @Test
    void apiResponsesCarryTheContentSecurityPolicyAndTheOtherHeaders() {
        HttpResponse<String> ok = send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient?_count=1")).GET());
        assertThat(ok.statusCode()).isEqualTo(200);
        assertSecurityHeaders(RawHttp.Response.of(ok));

        HttpResponse<String> unauthorised = sendWithoutToken(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient")).GET());
        assertThat(unauthorised.statusCode()).isEqualTo(401);
        assertSecurityHeaders(RawHttp.Response.of(unauthorised));

        HttpResponse<String> badRequest = send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient?family=ab")).GET());
        assertThat(badRequest.statusCode()).isEqualTo(400);
        assertSecurityHeaders(RawHttp.Response.of(badRequest));
    }

    @Test
    void theSignInPagesKeepTheirOwnPolicy() {
        HttpResponse<String> page = sendWithoutToken(HttpRequest.newBuilder(URI.create(baseUrl() + "/login")).GET());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().allValues("Content-Security-Policy")).hasSize(1);
        // the sign-in pages' own policy: styles from the shared stylesheet only (no inline style since issue #20)
        assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("style-src 'self'")
                .doesNotContain("unsafe");
        assertThat(page.headers().allValues("Cache-Control")).hasSize(1);
        assertThat(page.headers().firstValue("Strict-Transport-Security")).isPresent();
        assertThat(page.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
    }

    // --- helpers ------------------------------------------------------------------------------

    private void assertOurs(RawHttp.Response response, int status) {
        assertThat(response.status()).as("status; body: %s", response.body()).isEqualTo(status);
        assertThat(response.header("Content-Type").orElse("")).startsWith("application/fhir+json");
        OperationOutcome outcome = Refusals.outcomeOf(response);
        assertThat(outcome.getIssueFirstRep().getSeverity()).isEqualTo(OperationOutcome.IssueSeverity.ERROR);
        assertSecurityHeaders(response);
        String requestId = response.header("X-Request-Id").orElseThrow();
        assertThat(outcome.getIssueFirstRep().getDiagnostics()).contains(requestId);
        assertThat(response.body()).doesNotContain(canary).doesNotContain("Tomcat").doesNotContain("<html");
        response.headers().forEach((name, value) -> assertThat(value).as("header %s", name).doesNotContain(canary));
    }

    static void assertSecurityHeaders(RawHttp.Response response) {
        assertThat(response.header("Strict-Transport-Security").orElse("")).as("HSTS").contains("max-age=");
        assertThat(response.header("Cache-Control").orElse("")).as("Cache-Control").contains("no-store");
        assertThat(response.header("X-Content-Type-Options")).as("X-Content-Type-Options").contains("nosniff");
        assertThat(response.header("X-Frame-Options")).as("X-Frame-Options").contains("DENY");
        assertThat(response.header("Content-Security-Policy").orElse("")).as("CSP")
                .contains("default-src 'none'").contains("frame-ancestors 'none'");
    }

    private RawHttp.Response raw(String request) throws IOException {
        try (SSLSocket socket = (SSLSocket) TestInstallation.trustingSslContext(TestInstallation.dataDir())
                .getSocketFactory().createSocket("localhost", port)) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            byte[] bytes = request.getBytes(StandardCharsets.ISO_8859_1);
            try {
                out.write(bytes);
                out.flush();
            } catch (IOException refusedMidway) {
                // The server may answer and close before reading all of an over-long request.
            }
            return RawHttp.read(socket.getInputStream());
        }
    }
}
