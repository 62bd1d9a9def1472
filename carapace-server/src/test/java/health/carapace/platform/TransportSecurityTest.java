package health.carapace.platform;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import health.carapace.testing.RawHttp;
import health.carapace.testing.TestInstallation;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.UUID;
import javax.net.ssl.SSLParameters;
import org.apache.catalina.connector.Connector;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.servlet.context.ServletWebServerApplicationContext;

/**
 * The HTTPS port speaks TLS 1.2 and 1.3 only, and nothing in plaintext.
 *
 * <p>Why TLS 1.1 and older are tested with a hand-built ClientHello: JDK 17 disables TLS 1.0
 * and 1.1 in {@code java.security} ({@code jdk.tls.disabledAlgorithms}), and that policy binds
 * every JSSE socket in this JVM, so a JDK client cannot even offer TLS 1.1, and its failure
 * would prove nothing about the server. A ClientHello written byte by byte is offered to the
 * server exactly as an old client would offer it, and the server's first record is read back.
 * The same hello with version TLS 1.2 is the control: it gets a ServerHello, so the refusals
 * are about the version and not about a malformed hello. The connector's own configuration is
 * checked as well, because the JDK policy could be relaxed by an operator; the connector's
 * protocol list could not be.
 *
 * <p>Cipher suites are tested the same way: the JDK client would only offer what the JDK allows,
 * so a hand-built TLS 1.2 hello offers exactly the suites under test. The control hello offers
 * the one allowed suite among the refused ones, and the server must pick it.
 */
class TransportSecurityTest extends IntegrationTest {

    private static final int RECORD_HANDSHAKE = 22;
    private static final int RECORD_ALERT = 21;
    private static final int HANDSHAKE_SERVER_HELLO = 2;
    private static final int ALERT_FATAL = 2;
    private static final int ALERT_PROTOCOL_VERSION = 70;
    private static final int ALERT_HANDSHAKE_FAILURE = 40;

    private static final int ECDHE_ECDSA_AES_256_GCM = 0xC02C;
    /** What a client might offer: one allowed suite, then AES-128-GCM and CBC suites the server must refuse. */
    private static final int[] OFFERED = {
        0xC02B, // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (refused: AES-128)
        0xC02F, // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (refused: AES-128)
        0xC009, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA (refused: CBC, SHA-1)
        0xC00A, // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA (refused: CBC, SHA-1)
        0xC024, // TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 (refused: CBC)
        0xC013, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA (refused: CBC, SHA-1)
        0x002F, // TLS_RSA_WITH_AES_128_CBC_SHA (refused: CBC, SHA-1, no forward secrecy)
        0x009D, // TLS_RSA_WITH_AES_256_GCM_SHA384 (refused: no forward secrecy)
        ECDHE_ECDSA_AES_256_GCM, // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (allowed), offered last on purpose
        0x00FF, // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
    };

    @Autowired
    private ServletWebServerApplicationContext context;

    @Test
    void plainHttpOnTheTlsPortNeverReachesTheApplication() throws IOException {
        Patient patient = new Patient();
        String family = "Plaintext" + UUID.randomUUID().toString().replace("-", "");
        patient.addName().setFamily(family);
        String id = fhirClient().create().resource(patient).execute().getId().getIdPart();

        RawHttp.Response response;
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET /fhir/Patient/" + id + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token()
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // Reads to end of stream unless framed: the server must also close the connection.
            response = RawHttp.read(socket.getInputStream());
        }

        // Tomcat's own fixed refusal, written by the TLS endpoint before any filter or servlet:
        // no redirect (the token has already crossed in clear; a redirect would invite a
        // retry), no request id (no application code saw the request), and none of the record.
        assertThat(response.status()).isEqualTo(400);
        assertThat(response.header("X-Request-Id")).isEmpty();
        assertThat(response.header("Location")).isEmpty();
        assertThat(response.body()).contains("requires TLS").doesNotContain(family).doesNotContain("resourceType");
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
    void currentTlsVersionsServeTheApi(String protocol) throws Exception {
        HttpClient client = HttpClient.newBuilder()
                .sslContext(TestInstallation.trustingSslContext(TestInstallation.dataDir()))
                .sslParameters(new SSLParameters(null, new String[] {protocol}))
                .build();

        HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri("/fhir/metadata")).GET().build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.sslSession()).hasValueSatisfying(session -> assertThat(session.getProtocol()).isEqualTo(protocol));
    }

    @Test
    void handBuiltTls12HelloIsAnsweredWithAServerHelloPickingTheOnlyAllowedSuite() throws IOException {
        byte[] firstRecord = firstRecordAfterHello(0x0303, OFFERED);

        assertThat(firstRecord[0]).as("record type").isEqualTo((byte) RECORD_HANDSHAKE);
        assertThat(firstRecord[5]).as("handshake message").isEqualTo((byte) HANDSHAKE_SERVER_HELLO);
        assertThat(Arrays.copyOfRange(firstRecord, 9, 11)).as("negotiated version").containsExactly(0x03, 0x03);
        // ServerHello: version(2) random(32) session_id(1 + n) cipher_suite(2)
        int sessionIdLength = firstRecord[9 + 2 + 32] & 0xff;
        int suite = ((firstRecord[9 + 2 + 32 + 1 + sessionIdLength] & 0xff) << 8)
                | (firstRecord[9 + 2 + 32 + 1 + sessionIdLength + 1] & 0xff);
        assertThat(suite).as("chosen cipher suite").isEqualTo(ECDHE_ECDSA_AES_256_GCM);
    }

    @Test
    void aTls12HelloOfferingOnlyCbcAndAes128SuitesIsRefused() throws IOException {
        int[] weakOnly = Arrays.stream(OFFERED).filter(suite -> suite != ECDHE_ECDSA_AES_256_GCM).toArray();

        byte[] firstRecord = firstRecordAfterHello(0x0303, weakOnly);

        assertThat(firstRecord[0]).as("record type").isEqualTo((byte) RECORD_ALERT);
        assertThat(firstRecord[5]).as("alert level").isEqualTo((byte) ALERT_FATAL);
        assertThat(firstRecord[6]).as("alert description").isEqualTo((byte) ALERT_HANDSHAKE_FAILURE);
    }

    @ParameterizedTest(name = "version 0x{0}")
    @ValueSource(strings = {"0302", "0301", "0300"}) // TLS 1.1, TLS 1.0, SSL 3.0
    void olderProtocolVersionsAreRefusedWithAProtocolVersionAlert(String version) throws IOException {
        byte[] firstRecord = firstRecordAfterHello(Integer.parseInt(version, 16), OFFERED);

        assertThat(firstRecord[0]).as("record type").isEqualTo((byte) RECORD_ALERT);
        assertThat(firstRecord[5]).as("alert level").isEqualTo((byte) ALERT_FATAL);
        assertThat(firstRecord[6]).as("alert description").isEqualTo((byte) ALERT_PROTOCOL_VERSION);
    }

    @Test
    void connectorOffersTls12And13Only() {
        Connector connector = ((TomcatWebServer) context.getWebServer()).getTomcat().getConnector();
        SSLHostConfig[] hosts = connector.findSslHostConfigs();

        assertThat(connector.getScheme()).isEqualTo("https");
        assertThat(hosts).isNotEmpty().allSatisfy(host ->
                assertThat(host.getProtocols()).containsExactlyInAnyOrder("TLSv1.2", "TLSv1.3"));
    }

    @Test
    void connectorEnablesOnlyAes256GcmAndChaCha20Suites() {
        Connector connector = ((TomcatWebServer) context.getWebServer()).getTomcat().getConnector();

        assertThat(connector.findSslHostConfigs()).isNotEmpty().allSatisfy(host -> assertThat(host.getEnabledCiphers())
                .isNotEmpty()
                .allSatisfy(suite -> assertThat(suite).matches("TLS_(ECDHE_(ECDSA|RSA)_WITH_)?(AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)"))
                .contains("TLS_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"));
    }

    // --- a ClientHello, byte by byte (RFC 5246 section 7.4.1.2) -------------------------------

    /** Sends a ClientHello offering {@code version} and {@code suites}; returns the server's first record, header included. */
    private byte[] firstRecordAfterHello(int version, int[] suites) throws IOException {
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(clientHello(version, suites));
            socket.getOutputStream().flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] header = new byte[5];
            try {
                in.readFully(header);
            } catch (EOFException closed) {
                throw new AssertionError("the server closed the connection without a TLS record", closed);
            }
            int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
            byte[] record = Arrays.copyOf(header, 5 + length);
            in.readFully(record, 5, length);
            return record;
        }
    }

    private static byte[] clientHello(int version, int[] cipherSuites) throws IOException {
        ByteArrayOutputStream hello = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(hello);
        out.writeShort(version);
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        out.write(random);
        out.writeByte(0); // no session id
        out.writeShort(cipherSuites.length * 2);
        for (int suite : cipherSuites) {
            out.writeShort(suite);
        }
        out.writeByte(1); // one compression method:
        out.writeByte(0); // null
        byte[] extensions = extensions();
        out.writeShort(extensions.length);
        out.write(extensions);

        byte[] body = hello.toByteArray();
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        DataOutputStream recordOut = new DataOutputStream(record);
        recordOut.writeByte(RECORD_HANDSHAKE);
        recordOut.writeShort(0x0301); // record-layer version that old and new clients alike send
        recordOut.writeShort(4 + body.length);
        recordOut.writeByte(1); // client_hello
        recordOut.writeByte(body.length >>> 16);
        recordOut.writeShort(body.length & 0xffff);
        recordOut.write(body);
        return record.toByteArray();
    }

    private static byte[] extensions() throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(all);
        byte[] host = "localhost".getBytes(StandardCharsets.US_ASCII);
        extension(out, 0x0000, data -> { // server_name
            data.writeShort(host.length + 3);
            data.writeByte(0);
            data.writeShort(host.length);
            data.write(host);
        });
        extension(out, 0x000a, data -> { // supported_groups: secp256r1, secp384r1, x25519
            data.writeShort(6);
            data.writeShort(0x0017);
            data.writeShort(0x0018);
            data.writeShort(0x001d);
        });
        extension(out, 0x000b, data -> { // ec_point_formats: uncompressed
            data.writeByte(1);
            data.writeByte(0);
        });
        extension(out, 0x000d, data -> { // signature_algorithms (read in TLS 1.2 only)
            int[] schemes = {0x0403, 0x0503, 0x0804, 0x0401};
            data.writeShort(schemes.length * 2);
            for (int scheme : schemes) {
                data.writeShort(scheme);
            }
        });
        extension(out, 0x0017, data -> { }); // extended_master_secret
        return all.toByteArray();
    }

    private interface ExtensionData {
        void write(DataOutputStream data) throws IOException;
    }

    private static void extension(DataOutputStream out, int type, ExtensionData content) throws IOException {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        content.write(new DataOutputStream(data));
        out.writeShort(type);
        out.writeShort(data.size());
        out.write(data.toByteArray());
    }
}
