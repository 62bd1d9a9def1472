package health.carapace.telehealth;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.PhiScanner;
import health.carapace.testing.TestInstallation;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import org.hl7.fhir.r4.model.Parameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * A visit's secrets and its signaling leave no trace: the patient's link and the clinician's
 * ticket, an SDP, public keys, commitments and wrapped sender keys sent through the relay (and a
 * malformed message that was refused) appear in no log line, no table (COPY and pg_dump) and no
 * file of the data directory.
 */
@ExtendWith(OutputCaptureExtension.class)
class TelehealthCanaryTest extends VisitTestSupport {

    @Test
    void linksTicketsSignalingAndKeyMaterialAreNeitherStoredNorLogged(CapturedOutput output) {
        String marker = UUID.randomUUID().toString().replace("-", "");
        String sdp = "v=0\r\no=- canarysdp" + marker + " 2 IN IP4 127.0.0.1\r\n";
        String publicKey = Base64.getEncoder().encodeToString(("canarypub" + marker).getBytes());
        String wrapped = Base64.getEncoder().encodeToString(("canarywrap" + marker).getBytes());
        String commitment = Base64.getEncoder().encodeToString(("canarycommit" + marker).getBytes());

        Booking booking = booking();
        Parameters started = started(booking);
        String link = patientLink(started);
        String ticket = ticket(booking.clinician(), booking.appointment());
        try (SignalClient doctor = joined("ticket", ticket); SignalClient patient = signal().send("type", "hello", "link", link)) {
            String patientId = patient.next("welcome").get("you").stringValue();
            doctor.next("joined");
            doctor.send("type", "commit", "to", patientId, "commitment", commitment);
            doctor.send("type", "reveal", "to", patientId, "publicKey", publicKey);
            doctor.send("type", "sender-key", "to", patientId, "kid", 7, "iv", "AAAAAAAAAAAAAAAA", "wrapped", wrapped);
            doctor.send("type", "offer", "to", patientId, "sdp", sdp);
            assertThat(patient.next("offer").get("sdp").stringValue()).isEqualTo(sdp);
            patient.send("{\"type\":\"offer\",\"to\":\"canarybad" + marker + "\"}");
            assertThat(patient.closedWithin10s().code()).isEqualTo(1007);
        }

        List<String> canaries = List.of(link, ticket, "canarysdp" + marker, publicKey, wrapped, commitment,
                "canarybad" + marker);
        List<String> leaks = new ArrayList<>(PhiScanner.inText("log output", output.getAll(), canaries));
        int dbPort = Integer.parseInt(TestInstallation.properties().get("carapace.db.url").toString()
                .replaceAll(".*:(\\d+)/.*", "$1"));
        leaks.addAll(PhiScanner.inText("a COPY dump of every table", PhiScanner.copyDump(dbPort), canaries));
        if (PhiScanner.pgDumpAvailable() || "true".equals(System.getenv("CI"))) {
            leaks.addAll(PhiScanner.inText("pg_dump", PhiScanner.pgDump(dbPort), canaries));
        }
        leaks.addAll(PhiScanner.inFiles(TestInstallation.dataDir(), canaries));
        assertThat(leaks).as("places where canaries were found").isEmpty();
    }
}
