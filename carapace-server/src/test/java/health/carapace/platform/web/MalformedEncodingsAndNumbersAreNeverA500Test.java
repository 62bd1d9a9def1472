package health.carapace.platform.web;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import health.carapace.testing.RawHttp;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestInstallation;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import javax.net.ssl.SSLSocket;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * Malformed percent-encodings, invalid UTF-8 in a query or a form body, a form charset other than
 * UTF-8, and numbers too large for a long are bad input: 400 (or, for a caller who may not do the
 * interaction at all, 403), an OperationOutcome with the security headers, never a 500 and never
 * an ERROR line with a stack trace. Found in review (after issue 12): {@code ?x=%G0} on
 * {@code /fhir/metadata}, {@code /oauth2/token} and {@code /login} answered 500 without
 * authentication (Tomcat's {@code InvalidParameterException} reached {@code UnhandledErrors}); so
 * did an invalid UTF-8 byte or any {@code charset} in a form. The sign-in pages' own answer to such
 * input is proved by {@code health.carapace.access.UndecodableSignInFieldsTest}.
 */
@ExtendWith(OutputCaptureExtension.class)
class MalformedEncodingsAndNumbersAreNeverA500Test extends IntegrationTest {

    private static final String TOO_LONG = "99999999999999999999";
    private static final String CANARY = "ZQCANARY" + UUID.randomUUID().toString().replace("-", "");

    @ParameterizedTest
    @ValueSource(strings = {"GET /fhir/metadata?x=%G0", "GET /fhir/metadata?x=%", "GET /fhir/metadata?x=%C3%28",
            "GET /fhir/metadata?x=%C0%AF", "GET /fhir/metadata?x=%ED%A0%80", "GET /health?x=%G0",
            "POST /oauth2/token?grant_type=client_credentials&client_id=%G0",
            "GET /oauth2/authorize?client_id=%G0&response_type=code"})
    void aMalformedPercentEncodingInTheQueryIsA400WithoutAuthentication(String requestLine, CapturedOutput log)
            throws IOException {
        assertRefused(exchange(requestLine.replace("x=", CANARY + "="), null, null, null), log);
    }

    @Test
    void aMalformedQueryIsA400ForAnAuthenticatedSearchToo(CapturedOutput log) throws IOException {
        assertRefused(exchange("GET /fhir/Patient?family=" + CANARY + "%G0", token(), null, null), log);
        assertRefused(exchange("GET /fhir/Patient?family=" + CANARY + "%C3%28", token(), null, null), log);
    }

    @ParameterizedTest
    @ValueSource(strings = {"family=%G0", "family=%C3%28", "family=%C0%AF", "family=%ED%A0%80", "family=%E9"})
    void anUndecodableFormSearchIsA400(String form, CapturedOutput log) throws IOException {
        assertRefused(exchange("POST /fhir/Patient/_search", token(), "application/x-www-form-urlencoded",
                form.replace("family=", "family=" + CANARY)), log);
    }

    @Test
    void theOAuthEndpointsRefuseUndecodableFormsAndForeignCharsets(CapturedOutput log) throws IOException {
        assertRefused(exchange("POST /oauth2/token", null, "application/x-www-form-urlencoded",
                "grant_type=client_credentials&client_id=" + CANARY + "%G0"), log);
        assertRefused(exchange("POST /oauth2/revoke", null, "application/x-www-form-urlencoded",
                "token=" + CANARY + "%C3%28"), log);
        assertRefused(exchange("POST /oauth2/token", null, "application/x-www-form-urlencoded; charset=" + CANARY,
                "grant_type=client_credentials"), log);
        assertRefused(exchange("POST /oauth2/token", null, "application/x-www-form-urlencoded; charset=ISO-8859-1",
                "grant_type=client_credentials"), log);
    }

    @Test
    void aWellFormedFormSearchStillWorks() throws IOException {
        RawHttp.Response response = exchange("POST /fhir/Patient/_search?_count=1", token(),
                "application/x-www-form-urlencoded; charset=\"UTF-8\"", "family=Nobody%C3%A9" + CANARY);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).contains("\"resourceType\":\"Bundle\"");
    }

    @Test
    void aVersionTooLargeForALongIs403ForACallerWithoutPermissionAnd404ForOneWithIt(CapturedOutput log)
            throws IOException {
        String auditor = tokenWithRoles("overflow-auditor", "test-auditor");
        String id = created();
        for (String version : new String[] {TOO_LONG, "9223372036854775808", "+1", "1x"}) {
            RawHttp.Response refused = exchange("GET /fhir/Patient/" + id + "/_history/" + version, auditor, null, null);
            assertThat(refused.status()).as(version).isEqualTo(403);
            assertThat(Refusals.outcomeOf(refused).getIssueFirstRep().getCode()).isEqualTo(IssueType.FORBIDDEN);
            RawHttp.Response missing = exchange("GET /fhir/Patient/" + id + "/_history/" + version, token(), null, null);
            assertThat(missing.status()).as(version).isEqualTo(404);
            assertThat(Refusals.outcomeOf(missing).getIssueFirstRep().getCode()).isEqualTo(IssueType.NOTFOUND);
        }
        assertThat(log.getAll()).doesNotContain("NumberFormatException")
                .doesNotContain("A request failed with an unhandled exception");
    }

    @Test
    void aBatchReadOfAVersionTooLargeForALongIsA404EntryNotTheCurrentVersion(CapturedOutput log) throws IOException {
        String id = created();
        for (String version : new String[] {TOO_LONG, "1x"}) {
            String batch = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":{\"method\":\"GET\","
                    + "\"url\":\"Patient/" + id + "/_history/" + version + "\"}}]}";
            RawHttp.Response bundle = exchange("POST /fhir", token(), "application/fhir+json", batch);
            assertThat(bundle.status()).as(bundle.body()).isEqualTo(200);
            assertThat(bundle.body()).as(version).contains("\"status\":\"404").doesNotContain("\"status\":\"200");
        }
        assertThat(log.getAll()).doesNotContain("NumberFormatException")
                .doesNotContain("A request failed with an unhandled exception");
    }

    @Test
    void anIfMatchTooLargeForALongIs412AndChangesNothing(CapturedOutput log) throws IOException {
        String id = created();
        String body = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"other\"}";
        RawHttp.Response response = exchangeWith("PUT /fhir/Patient/" + id, token(), "application/fhir+json", body,
                "If-Match: W/\"" + TOO_LONG + "\"\r\n");
        assertThat(response.status()).as(response.body()).isEqualTo(412);
        assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getCode()).isEqualTo(IssueType.CONFLICT);
        assertThat(response.body()).doesNotContain(TOO_LONG);
        String transaction = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":" + body
                + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + id + "\",\"ifMatch\":\"W/\\\"" + TOO_LONG
                + "\\\"\"}}]}";
        assertThat(exchange("POST /fhir", token(), "application/fhir+json", transaction).status()).isEqualTo(412);
        RawHttp.Response current = exchange("GET /fhir/Patient/" + id, token(), null, null);
        assertThat(current.body()).contains("\"versionId\":\"1\"").doesNotContain("\"gender\"");
        assertThat(log.getAll()).doesNotContain("NumberFormatException")
                .doesNotContain("A request failed with an unhandled exception");
    }

    private String created() throws IOException {
        RawHttp.Response response = exchange("POST /fhir/Patient", token(), "application/fhir+json",
                "{\"resourceType\":\"Patient\"}");
        assertThat(response.status()).isEqualTo(201);
        java.util.regex.Matcher id = java.util.regex.Pattern.compile("\"id\":\"([0-9a-f-]{36})\"").matcher(response.body());
        assertThat(id.find()).isTrue();
        return id.group(1);
    }

    private static void assertRefused(RawHttp.Response response, CapturedOutput log) {
        assertThat(response.status()).as(response.body()).isEqualTo(400);
        assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getCode()).isEqualTo(IssueType.INVALID);
        assertThat(response.header("Content-Security-Policy")).isPresent();
        assertThat(response.header("X-Content-Type-Options")).contains("nosniff");
        assertThat(response.body()).doesNotContain(CANARY);
        assertThat(log.getAll()).doesNotContain("InvalidParameterException").doesNotContain(CANARY)
                .doesNotContain("A request failed with an unhandled exception");
    }

    RawHttp.Response exchange(String requestLine, String token, String contentType, String body) throws IOException {
        return exchangeWith(requestLine, token, contentType, body, "");
    }

    RawHttp.Response exchangeWith(String requestLine, String token, String contentType, String body,
            String extraHeaders) throws IOException {
        byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.ISO_8859_1);
        String head = requestLine + " HTTP/1.1\r\nHost: localhost:" + port + "\r\n"
                + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
                + (contentType == null ? "" : "Content-Type: " + contentType + "\r\n")
                + (body == null ? "" : "Content-Length: " + content.length + "\r\n")
                + extraHeaders + "Connection: close\r\n\r\n";
        try (SSLSocket socket = (SSLSocket) TestInstallation.trustingSslContext(TestInstallation.dataDir())
                .getSocketFactory().createSocket("localhost", port)) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            out.write(content);
            out.flush();
            return RawHttp.read(socket.getInputStream());
        }
    }
}
