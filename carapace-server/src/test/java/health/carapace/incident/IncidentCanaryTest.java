package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.ServiceClients;
import health.carapace.testing.PhiScanner;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * Unique fake PHI sent through the real server (a VIP patient's name, SSN and birth date; a search
 * by the name; a credential attack whose client id and secret are canaries) reaches the detectors
 * and opens incidents, and appears in none of: the incidents as the admin API and the CLI show
 * them, the metrics scrape, the log output, a COPY dump of every table, the data directory.
 */
@ExtendWith(OutputCaptureExtension.class)
class IncidentCanaryTest extends IncidentTesting {

    @Test
    void incidentsMetricsLogsAndTablesCarryNoPhi(CapturedOutput output) {
        String marker = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String family = "Canaryfam" + marker;
        String given = "Canarygiv" + marker;
        String ssn = "9" + String.valueOf(Math.abs(marker.hashCode())).substring(0, 8);
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\""
                        + family + "\",\"given\":[\"" + given + "\"]}],\"identifier\":[{\"system\":"
                        + "\"http://hl7.org/fhir/sid/us-ssn\",\"value\":\"" + ssn + "\"}],\"birthDate\":\"1931-02-03\"}")));
        assertThat(created.statusCode()).isEqualTo(201);
        String patient = fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
        flag(patient, true, true);

        ServiceClients.Credentials snooper = client("canary-snooper", TestPolicy.EVERYTHING);
        String token = tokenFor(snooper.clientId(), snooper.clientSecret());
        link(snooper.clientId(), patient);
        assertThat(read(token, patient).statusCode()).isEqualTo(200);
        assertThat(as(token, HttpRequest.newBuilder(uri("/fhir/Patient?family=" + family)).GET()).statusCode())
                .isEqualTo(200);
        String canaryClient = "svc-" + UUID.randomUUID();
        String canarySecret = "canarysecret" + marker;
        for (int i = 0; i < 11; i++) {
            sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                    .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                            (canaryClient + ":" + canarySecret).getBytes()))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&name=" + family)));
        }
        Incident vip = awaitIncident("vip-access", snooper.clientId());
        awaitIncident("self-access", snooper.clientId());
        awaitIncident("credential-attack", canaryClient);
        postJson(officer(), "/admin/incidents/" + vip.id() + "/containment", "{\"disable\":true}");

        List<String> canaries = List.of(family, given, ssn, "1931-02-03", canarySecret);
        String listed = as(officer(), HttpRequest.newBuilder(uri("/admin/incidents?limit=1000")).GET()).body();
        String shown = as(officer(), HttpRequest.newBuilder(uri("/admin/incidents/" + vip.id())).GET()).body();
        String metrics = as(tokenWithRoles("canary-metrics", TestPolicy.METRICS),
                HttpRequest.newBuilder(uri("/admin/metrics")).GET()).body();
        assertThat(shown).contains("Patient/" + patient);
        assertThat(metrics).contains("carapace_incident_open");

        List<String> leaks = new ArrayList<>(PhiScanner.inText("the incident list", listed, canaries));
        leaks.addAll(PhiScanner.inText("an incident", shown, canaries));
        leaks.addAll(PhiScanner.inText("the metrics", metrics, canaries));
        leaks.addAll(PhiScanner.inText("log output", output.getAll(), canaries));
        int dbPort = Integer.parseInt(TestInstallation.properties().get("carapace.db.url").toString()
                .replaceAll(".*:(\\d+)/.*", "$1"));
        leaks.addAll(PhiScanner.inText("a COPY dump of every table", PhiScanner.copyDump(dbPort), canaries));
        leaks.addAll(PhiScanner.inFiles(TestInstallation.dataDir(), canaries));
        assertThat(leaks).as("places where canaries were found").isEmpty();
    }
}
