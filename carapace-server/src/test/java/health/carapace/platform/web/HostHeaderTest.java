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
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Links come from {@code carapace.public-base-url}, never from the request: a request for another
 * host name is refused before anything serves it, and X-Forwarded-Host (or -Proto, -Port) changes
 * no link. The test installation's base URL is {@code https://localhost:<the random port>}.
 */
class HostHeaderTest extends IntegrationTest {

    @ParameterizedTest
    @ValueSource(strings = {"GET /fhir/Patient", "GET /fhir/metadata", "GET /health", "GET /login",
        "GET /.well-known/oauth-authorization-server", "POST /oauth2/token"})
    void aRequestForAnotherHostNameIsRefusedWith421BeforeAnythingServesIt(String route) throws IOException {
        String evil = "evil-" + UUID.randomUUID().toString().substring(0, 8) + ".example";
        long resources = resources();

        RawHttp.Response response = exchange(route, evil, "Authorization: Bearer " + token() + "\r\n");

        assertThat(response.status()).as("status; body: %s", response.body()).isEqualTo(421);
        assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getCode()).isEqualTo(OperationOutcome.IssueType.INVALID);
        assertThat(response.body()).doesNotContain(evil);
        response.headers().forEach((name, value) -> assertThat(value).as("header %s", name).doesNotContain(evil));
        assertThat(response.header("Strict-Transport-Security")).isPresent();
        assertThat(response.header("Cache-Control")).hasValue("no-store");
        assertThat(response.header("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(resources()).isEqualTo(resources);
    }

    @Test
    void aHostNamedLikeThePublicBaseUrlWithAPortSuffixTrickIsRefused() throws IOException {
        for (String host : new String[] {"localhost.evil.example", "localhost:443@evil.example", "evil.example:localhost",
            "localhost:8443, evil.example"}) {
            RawHttp.Response response = exchange("GET /fhir/metadata", host, "");
            assertThat(response.status()).as("Host: %s", host).isIn(400, 421);
            assertThat(response.body()).doesNotContain("evil.example");
        }
    }

    @Test
    void bundleLinksFullUrlsAndLocationUseTheConfiguredBaseUrlWhateverHostAndForwardedHeadersSay() throws IOException {
        String forwarded = "X-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\n"
                + "Forwarded: host=evil.example;proto=http\r\n";
        String family = "Linked" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String body = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}";

        // an allowed name in another spelling and with another port: still the configured base URL
        RawHttp.Response created = exchange("POST /fhir/Patient", "LOCALHOST:1", "Authorization: Bearer " + token()
                + "\r\n" + forwarded + "Content-Type: application/fhir+json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n", body);
        assertThat(created.status()).as("body: %s", created.body()).isEqualTo(201);
        assertThat(created.header("Location")).hasValueSatisfying(location ->
                assertThat(location).startsWith(fhirBase() + "/Patient/"));

        RawHttp.Response search = exchange("GET /fhir/Patient?family=" + family, "localhost", "Authorization: Bearer "
                + token() + "\r\n" + forwarded);
        assertThat(search.status()).isEqualTo(200);
        Bundle bundle = fhir.newJsonParser().parseResource(Bundle.class, search.body());
        assertThat(bundle.getLink()).isNotEmpty().allSatisfy(link -> assertThat(link.getUrl()).matches(java.util.regex.Pattern.quote(fhirBase()) + "[/?].*"));
        assertThat(bundle.getEntry()).hasSize(1).allSatisfy(entry ->
                assertThat(entry.getFullUrl()).startsWith(fhirBase() + "/Patient/"));
        assertThat(search.body()).doesNotContain("evil.example").doesNotContain("http://");

        RawHttp.Response metadata = exchange("GET /.well-known/oauth-authorization-server", "localhost", forwarded);
        assertThat(metadata.status()).isEqualTo(200);
        assertThat(metadata.body()).doesNotContain("evil.example").contains("\"issuer\":\"https://localhost:");
    }

    private long resources() {
        return JdbcClient.create(dataSource).sql("select count(*) from phi.resource").query(Long.class).single();
    }

    private RawHttp.Response exchange(String route, String host, String headers) throws IOException {
        return exchange(route, host, headers, null);
    }

    /** One request with exactly the Host given (HttpClient will not send a Host of our choosing). */
    private RawHttp.Response exchange(String route, String host, String headers, String body) throws IOException {
        try (SSLSocket socket = (SSLSocket) TestInstallation.trustingSslContext(TestInstallation.dataDir())
                .getSocketFactory().createSocket("localhost", port)) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            String framing = body == null && route.startsWith("POST") ? "Content-Length: 0\r\n" : "";
            out.write((route + " HTTP/1.1\r\nHost: " + host + "\r\n" + headers + framing + "Connection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            if (body != null) {
                out.write(body.getBytes(StandardCharsets.UTF_8));
            }
            out.flush();
            return RawHttp.read(socket.getInputStream());
        }
    }
}
