package health.carapace.telehealth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import health.carapace.testing.RawHttp;
import health.carapace.testing.TestInstallation;
import java.io.IOException;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Each class of bad signaling input, sent as an outsider or a participant would: refused with a
 * WebSocket close code (or, before the upgrade, a 4xx OperationOutcome), nothing relayed to the
 * other participant, nothing stored, nothing of it echoed.
 */
class SignalingBadInputTest extends VisitTestSupport {

    private Booking booking;
    private String link;
    private SignalClient doctor;
    private String doctorId;

    @BeforeEach
    void visitWithTheClinicianIn() {
        booking = booking();
        link = patientLink(started(booking));
        doctor = signal().send("type", "hello", "ticket", ticket(booking.clinician(), booking.appointment()));
        doctorId = doctor.next("welcome").get("you").stringValue();
    }

    @Test
    void aPageOnAnotherOriginOrNoOriginCannotOpenTheSocket() {
        for (String origin : new String[] {"https://evil.example", baseUrl() + ".evil.example", "null",
                baseUrl().replace("https://", "http://")}) {
            Throwable refused = catchThrowable(() -> SignalClient.open(baseUrl(), origin));
            assertThat(refused).isInstanceOf(CompletionException.class).hasCauseInstanceOf(WebSocketHandshakeException.class);
            var response = ((WebSocketHandshakeException) refused.getCause()).getResponse();
            assertThat(response.statusCode()).as(origin).isEqualTo(403);
            assertThat(response.body().toString()).contains("OperationOutcome").doesNotContain("evil");
        }
        assertNothingReachedTheClinician();
    }

    @Test
    void anUpgradeNamingAnotherHostIsRefusedBeforeItIsAnUpgrade() throws IOException {
        try (SSLSocket socket = (SSLSocket) TestInstallation.trustingSslContext(TestInstallation.dataDir())
                .getSocketFactory().createSocket("localhost", port)) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write(("GET /telehealth/signal HTTP/1.1\r\nHost: attacker.example\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\nOrigin: " + baseUrl() + "\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            RawHttp.Response response = RawHttp.read(socket.getInputStream());
            assertThat(response.status()).isEqualTo(421);
            assertThat(response.body()).doesNotContain("attacker");
        }
    }

    @Test
    void withoutAHelloFirstNothingIsRelayed() {
        try (SignalClient stranger = signal()) {
            stranger.send("type", "offer", "to", doctorId, "sdp", "v=0\r\n");
            assertThat(stranger.closedWithin10s()).isEqualTo(new SignalClient.Closed(1008, "unauthenticated"));
        }
        assertNothingReachedTheClinician();
    }

    @Test
    void aConnectionThatNeverSaysWhoItIsIsClosedAfterTenSeconds() {
        try (SignalClient idle = signal()) {
            assertThat(idle.closedWithin(20)).isEqualTo(new SignalClient.Closed(1008, "unauthenticated"));
        }
        assertNothingReachedTheClinician();
    }

    @Test
    void binaryMessagesAreRefused() {
        try (SignalClient patient = joined("link", link)) {
            patient.socket.sendBinary(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}), true).join();
            assertThat(patient.closedWithin10s().code()).isEqualTo(1003);
        }
        assertNothingReachedTheClinicianBut("joined", "left");
    }

    @Test
    void forgedTicketsAndLinksAndAmbiguousHellosAreRefused() {
        String forged = "A".repeat(43);
        for (String hello : new String[] {
                "{\"type\":\"hello\",\"ticket\":\"" + forged + "\"}",
                "{\"type\":\"hello\",\"ticket\":\"" + forged + "\",\"link\":\"" + link + "\"}",
                "{\"type\":\"hello\"}",
                "{\"type\":\"hello\",\"ticket\":42}",
                "{\"type\":\"hello\",\"link\":\"" + link + "\",\"visit\":\"" + booking.appointment() + "\"}"}) {
            try (SignalClient client = signal().send(hello)) {
                assertThat(client.closedWithin10s().code()).as(hello).isEqualTo(1008);
                assertThat(client.received).isEmpty();
            }
        }
        // a wrong guess at the patient's link is refused and does not use up the real one
        try (SignalClient client = signal().send("type", "hello", "link", forged)) {
            assertThat(client.closedWithin10s()).isEqualTo(new SignalClient.Closed(1008, "link-refused"));
        }
        joined("link", link).close();
        assertNothingReachedTheClinicianBut("joined", "left");
    }

    @Test
    void malformedMessagesCloseTheConnectionWith1007() {
        for (String message : new String[] {
                "not json", "[1,2]", "{\"type\":\"commit\",\"type\":\"offer\"}", "{\"type\":\"dance\",\"to\":\"" + doctorId + "\"}",
                "{\"type\":\"offer\",\"to\":\"" + doctorId + "\",\"sdp\":\"not sdp\"}",
                "{\"type\":\"offer\",\"to\":\"" + doctorId + "\",\"sdp\":\"v=0\",\"from\":\"" + doctorId + "\"}",
                "{\"type\":\"commit\",\"to\":\"" + doctorId + "\",\"commitment\":\"<script>\"}",
                "{\"type\":\"sender-key\",\"to\":\"" + doctorId + "\",\"kid\":-1,\"iv\":\"AAAA\",\"wrapped\":\"AAAA\"}",
                "{\"type\":\"ice\",\"to\":\"" + doctorId + "\",\"candidate\":{\"nested\":true}}"}) {
            try (SignalClient patient = joined("link", freshLink())) {
                patient.send(message);
                assertThat(patient.closedWithin10s()).as(message).isEqualTo(new SignalClient.Closed(1007, "malformed"));
            }
        }
        assertNothingReachedTheClinicianBut("joined", "left");
    }

    @Test
    void anOversizedMessageIsRefusedWith1009() {
        try (SignalClient patient = joined("link", link)) {
            patient.send("type", "offer", "to", doctorId, "sdp", "v=0\r\n" + "a=x\r\n".repeat(4000));
            assertThat(patient.closedWithin10s().code()).isEqualTo(1009);
        }
        assertNothingReachedTheClinicianBut("joined", "left");
    }

    @Test
    void aFloodIsCutOffByTheRateLimit() {
        try (SignalClient patient = joined("link", link)) {
            for (int i = 0; i < 300 && !patient.closed.isDone(); i++) {
                patient.socket.sendText("{\"type\":\"commit\",\"to\":\"" + doctorId
                        + "\",\"commitment\":\"q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=\"}", true);
            }
            assertThat(patient.closedWithin10s()).isEqualTo(new SignalClient.Closed(1008, "rate-limited"));
        }
        // the burst (twice the per-second rate, 100) and what refilled meanwhile got through, not the 300
        long relayed = doctor.received.stream().filter(m -> m.get("type").stringValue().equals("commit")).count();
        assertThat(relayed).isLessThanOrEqualTo(160L);
    }

    private String freshLink() {
        return patientLink(started(booking));
    }

    private void assertNothingReachedTheClinician() {
        assertThat(doctor.received).isEmpty();
        assertThat(doctor.closed).isNotDone();
        assertNoVisitRowsBeyondTheOne();
    }

    private void assertNothingReachedTheClinicianBut(String... types) {
        assertThat(doctor.received).allSatisfy(m -> assertThat(m.get("type").stringValue()).isIn((Object[]) types));
        assertThat(doctor.closed).isNotDone();
        assertNoVisitRowsBeyondTheOne();
    }

    private void assertNoVisitRowsBeyondTheOne() {
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from telehealth.visit where appointment_id = ?::uuid")
                .param(booking.appointment()).query(Long.class).single()).isEqualTo(1);
    }
}
