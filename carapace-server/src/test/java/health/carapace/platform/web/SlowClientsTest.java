package health.carapace.platform.web;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import health.carapace.testing.RawHttp;
import health.carapace.testing.TestInstallation;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * Issue 21, item 5: slow clients. A connection that sends nothing is closed after the connection
 * timeout (20 s); a body that stalls half-way is answered 408 with an OperationOutcome and stores
 * nothing; hundreds of connections trickling their headers hold no worker thread, and a normal
 * client is served meanwhile.
 */
class SlowClientsTest extends IntegrationTest {

    /** Longer than server.tomcat.connection-timeout (20 s), with room for a loaded machine. */
    private static final int WAIT_MILLIS = 60_000;

    @Test
    void aConnectionThatSendsNothingIsClosed() throws IOException {
        try (SSLSocket socket = connect()) {
            socket.startHandshake();
            socket.setSoTimeout(WAIT_MILLIS);
            assertThat(readToEnd(socket.getInputStream())).as("closed by the server, nothing sent").isEmpty();
        }
    }

    @Test
    void aStalledBodyIsAnswered408AndNothingIsStored() throws IOException {
        String family = "Stalled" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String body = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}";
        try (SSLSocket socket = connect()) {
            socket.setSoTimeout(WAIT_MILLIS);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /fhir/Patient HTTP/1.1\r\nHost: localhost:" + port + "\r\nAuthorization: Bearer " + token()
                    + "\r\nContent-Type: application/fhir+json\r\nContent-Length: " + (body.length() + 500)
                    + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            out.flush();
            RawHttp.Response response = RawHttp.read(socket.getInputStream());
            assertThat(response.status()).isEqualTo(408);
            assertThat(response.body()).contains("\"resourceType\":\"OperationOutcome\"").doesNotContain(family);
        }
        assertThat(send(HttpRequest.newBuilder(uri("/fhir/Patient?family=" + family))).body())
                .contains("\"total\":0");
    }

    @Test
    void connectionsTricklingTheirHeadersDoNotKeepANormalClientWaiting() throws IOException {
        List<SSLSocket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 300; i++) {
                SSLSocket socket = connect();
                socket.getOutputStream().write(("GET /fhir/metadata HTTP/1.1\r\nHost: localhost:" + port + "\r\nX-Slow: ")
                        .getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                slow.add(socket);
            }
            assertThat(send(HttpRequest.newBuilder(uri("/fhir/Patient?_count=1"))).statusCode()).isEqualTo(200);
        } finally {
            for (SSLSocket socket : slow) {
                socket.close();
            }
        }
    }

    private SSLSocket connect() throws IOException {
        return (SSLSocket) TestInstallation.trustingSslContext(TestInstallation.dataDir()).getSocketFactory()
                .createSocket("localhost", port);
    }

    private static byte[] readToEnd(InputStream in) throws IOException {
        try {
            return in.readAllBytes();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server kept a silent connection open for " + WAIT_MILLIS + " ms", e);
        } catch (javax.net.ssl.SSLException e) {
            return new byte[0]; // closed without close_notify
        }
    }
}
