package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.RawHttp;
import health.carapace.testing.TestInstallation;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * The incident routes attacked as an outsider would (the same attacks were run by hand against
 * {@code ./carapace start-dev}): no token, a forged one, a records-only role, another Host, path
 * tricks, unknown methods, bodies that are not UTF-8 JSON, markup in filters. Each is refused with
 * an OperationOutcome that echoes nothing sent.
 */
class IncidentRoutesAttackTest extends IncidentTesting {

    private static final String CANARY = "JaneCanaryDoe";

    private RawHttp.Response raw(String head, byte[] body) throws IOException {
        try (SSLSocket socket = (SSLSocket) TestInstallation.trustingSslContext(TestInstallation.dataDir())
                .getSocketFactory().createSocket("localhost", port)) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write((head + "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            return RawHttp.read(socket.getInputStream());
        }
    }

    @Test
    void outsidersAndOtherRolesAreRefused() {
        assertThat(sendWithoutToken(HttpRequest.newBuilder(uri("/admin/incidents")).GET()).statusCode()).isEqualTo(401);
        assertThat(as("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", HttpRequest.newBuilder(uri("/admin/incidents")).GET())
                .statusCode()).as("an unsigned token").isEqualTo(401);
        assertThat(as(token(), HttpRequest.newBuilder(uri("/admin/incidents")).GET()).statusCode()).isEqualTo(403);
        assertThat(as(officer(), HttpRequest.newBuilder(uri("/fhir/Patient")).GET()).statusCode())
                .as("the privacy officer reads no records").isEqualTo(403);
        assertThat(as(token(), HttpRequest.newBuilder(uri("/admin/privacy/patients/" + UUID.randomUUID() + "/flags"))
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString("{\"vip\":true}")))
                .statusCode()).isEqualTo(403);
    }

    @Test
    void rawRequestsWithOddHostsPathsMethodsAndBytesAreRefusedWithoutEcho() throws IOException {
        String auth = "Authorization: Bearer " + officer();
        RawHttp.Response otherHost = raw("GET /admin/incidents HTTP/1.1\r\nHost: " + CANARY + ".example\r\n" + auth,
                new byte[0]);
        assertThat(otherHost.status()).isEqualTo(421);
        assertThat(otherHost.body()).doesNotContain(CANARY);

        RawHttp.Response dotted = raw("GET /admin/incidents/%2e%2e/privacy HTTP/1.1\r\nHost: localhost\r\n" + auth,
                new byte[0]);
        assertThat(dotted.status()).isEqualTo(400);

        RawHttp.Response trace = raw("TRACE /admin/incidents HTTP/1.1\r\nHost: localhost\r\n" + auth, new byte[0]);
        assertThat(trace.status()).isIn(405, 501);

        byte[] notUtf8 = {'{', '"', 'v', 'i', 'p', '"', ':', (byte) 0xff, (byte) 0xfe, '}'};
        RawHttp.Response bytes = raw("PUT /admin/privacy/patients/" + UUID.randomUUID() + "/flags HTTP/1.1\r\n"
                + "Host: localhost\r\nContent-Type: application/json\r\n" + auth, notUtf8);
        assertThat(bytes.status()).isEqualTo(400);

        HttpResponse<String> markup = as(officer(), HttpRequest.newBuilder(
                uri("/admin/incidents?state=%3Cscript%3E" + CANARY)).GET());
        assertThat(markup.statusCode()).isEqualTo(400);
        assertThat(markup.body()).doesNotContain(CANARY).doesNotContain("<script>");
        HttpResponse<String> html = as(officer(), HttpRequest.newBuilder(
                uri("/admin/privacy/patients/" + UUID.randomUUID() + "/flags")).header("Content-Type", "text/html")
                .PUT(HttpRequest.BodyPublishers.ofString("<b>" + CANARY + "</b>")));
        assertThat(html.statusCode()).isEqualTo(415);
        assertThat(html.body()).doesNotContain(CANARY);
    }
}
