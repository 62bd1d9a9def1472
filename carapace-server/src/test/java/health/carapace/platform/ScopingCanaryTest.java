package health.carapace.platform;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.access.CareRelationships;
import health.carapace.audit.AuditContext;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.PhiScanner;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * Canaries for access control: an SSN shown masked to a clinician, searched for and refused, and
 * a break-glass reason (free text that may hold PHI), accepted and refused, appear in no log line,
 * nowhere in the database outside ciphertext, and in no file of the data directory.
 */
@ExtendWith(OutputCaptureExtension.class)
class ScopingCanaryTest extends IntegrationTest {

    @Autowired
    CareRelationships relationships;

    private final String last4 = Fakes.digits(4);
    private final String ssn = "9" + Fakes.digits(2) + "-" + Fakes.digits(2) + "-" + last4;
    private final String reason = "Canaryreason " + Fakes.letters(12) + " fell at home";
    private final String refusedReason = "Canaryrefused " + Fakes.letters(12);

    @Test
    void maskedSsnsAndBreakGlassReasonsLeaveNoTrace(CapturedOutput output) {
        HttpResponse<String> created = call(token(), HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":"
                        + "\"http://hl7.org/fhir/sid/us-ssn\",\"value\":\"" + ssn + "\"}]}")));
        String patient = fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
        var clinician = client("canary-clinician", TestPolicy.CLINICIAN);
        String clinicianToken = tokenFor(clinician.clientId(), clinician.clientSecret());
        relationships.assign(clinician.clientId(), "Patient/" + patient, "test-admin", AuditContext.none());

        String masked = call(clinicianToken, HttpRequest.newBuilder(uri("/fhir/Patient/" + patient)).GET()).body();
        assertThat(masked).contains("***-**-" + last4).doesNotContain(ssn);
        assertThat(call(clinicianToken, HttpRequest.newBuilder(uri("/fhir/Patient?identifier="
                + URLEncoder.encode("http://hl7.org/fhir/sid/us-ssn|" + ssn, StandardCharsets.UTF_8))).GET())
                .statusCode()).isEqualTo(403);

        String other = fhir.newJsonParser().parseResource(call(token(), HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"active\":true}"))).body())
                .getIdElement().getIdPart();
        assertThat(breakGlass(clinicianToken, other, reason).statusCode()).isEqualTo(200);
        assertThat(call(clinicianToken, HttpRequest.newBuilder(uri("/fhir/Patient/" + other)).GET()).statusCode())
                .isEqualTo(200);
        String remote = tokenWithRoles("canary-remote", TestPolicy.REMOTE);
        HttpResponse<String> refused = breakGlass(remote, other, refusedReason);
        assertThat(refused.statusCode()).isEqualTo(403);
        HttpResponse<String> tooLong = breakGlass(clinicianToken, other, refusedReason + "x".repeat(1000));
        assertThat(tooLong.statusCode()).isEqualTo(400);
        for (HttpResponse<String> response : List.of(refused, tooLong)) {
            assertThat(response.body()).doesNotContain("Canary");
        }

        List<String> canaries = List.of(ssn, "***-**-" + last4, "Canaryreason", "Canaryrefused");
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

    private HttpResponse<String> breakGlass(String token, String patient, String why) {
        return call(token, HttpRequest.newBuilder(uri("/fhir/$break-glass"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":"
                        + "\"patient\",\"valueReference\":{\"reference\":\"Patient/" + patient + "\"}},{\"name\":"
                        + "\"reason\",\"valueString\":\"" + why + "\"}]}")));
    }

    private HttpResponse<String> call(String token, HttpRequest.Builder request) {
        return sendWithoutToken(request.header("Authorization", "Bearer " + token));
    }
}
