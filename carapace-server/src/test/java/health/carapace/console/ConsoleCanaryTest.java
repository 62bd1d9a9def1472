package health.carapace.console;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.incident.Incident;
import health.carapace.testing.Fakes;
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
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * Canaries through the console: a patient's name and SSN, read and searched for by a client, then
 * looked into by a privacy officer on every console page. The console shows references, never
 * record content: no page but the audit explorer (which shows a search's query, decrypted, to
 * holders of {@code view:audit}) may hold a canary, and every page is sent {@code no-store}. No
 * canary reaches the log, the console's sessions or anywhere in the database in clear.
 */
@ExtendWith(OutputCaptureExtension.class)
class ConsoleCanaryTest extends ConsoleTesting {

    private final String family = "Canaryconsole" + Fakes.letters(10);
    private final String ssn = "9" + Fakes.digits(2) + "-" + Fakes.digits(2) + "-" + Fakes.digits(4);

    @Test
    void consolePagesShowNoRecordContentAndNothingReachesTheLogs(CapturedOutput output) {
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family
                        + "\"}],\"identifier\":[{\"system\":\"http://hl7.org/fhir/sid/us-ssn\",\"value\":\"" + ssn + "\"}]}")));
        assertThat(created.statusCode()).isEqualTo(201);
        String patient = fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
        var reader = client("console-canary-reader", TestPolicy.EVERYTHING);
        String token = tokenFor(reader.clientId(), reader.clientSecret());
        sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient/" + patient)).header("Authorization", "Bearer " + token).GET());
        sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient?family=" + URLEncoder.encode(family, StandardCharsets.UTF_8)))
                .header("Authorization", "Bearer " + token).GET());
        Incident incident = openIncident();
        ConsoleVisitor admin = signedIn("admin");
        List<String> canaries = List.of(family, ssn);

        List<String> leaks = new ArrayList<>();
        for (String page : List.of("/console", "/console/incidents", "/console/incidents/" + incident.id(),
                "/console/audit/disclosures?patient=" + patient, "/console/audit/disclosures.csv?patient=" + patient,
                "/console/audit?patient=" + patient + "&action=viewed")) {
            HttpResponse<String> response = admin.get(page);
            assertThat(response.statusCode()).as(page).isEqualTo(200);
            assertThat(response.headers().firstValue("Cache-Control").orElse("")).as(page).contains("no-store");
            leaks.addAll(PhiScanner.inText(page, response.body(), canaries));
        }
        // the explorer shows a search's query to view:audit holders: PHI on purpose, and never cached
        HttpResponse<String> explorer = admin.get("/console/audit?principal=" + reader.clientId() + "&action=searched");
        assertThat(explorer.body()).contains(family);
        assertThat(explorer.headers().firstValue("Cache-Control").orElse("")).contains("no-store");

        leaks.addAll(PhiScanner.inText("log output", output.getAll(), canaries));
        int dbPort = Integer.parseInt(TestInstallation.properties().get("carapace.db.url").toString()
                .replaceAll(".*:(\\d+)/.*", "$1"));
        leaks.addAll(PhiScanner.inText("a COPY dump of every table", PhiScanner.copyDump(dbPort), canaries));
        assertThat(leaks).isEmpty();
    }
}
