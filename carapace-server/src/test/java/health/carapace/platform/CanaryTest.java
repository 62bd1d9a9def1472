package health.carapace.platform;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.PhiScanner;
import health.carapace.testing.TestInstallation;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * Seeds unique fake PHI, exercises storage, reads, searches and error paths with it, then proves
 * the canaries are nowhere they must not be: not in any log line, not in a dump of the whole
 * database (outside ciphertext), not in any file under the data directory.
 */
@ExtendWith(OutputCaptureExtension.class)
class CanaryTest extends IntegrationTest {

    private final String ssn = "9" + Fakes.digits(2) + "-" + Fakes.digits(2) + "-" + Fakes.digits(4);
    private final String family = "Qzcanary" + Fakes.letters(8);
    private final String given = "Vxcanary" + Fakes.letters(8);
    private final String birthDate = "1912-0" + (1 + new Random().nextInt(9)) + "-1" + Fakes.digits(1);
    private final String note = "canary-note-" + UUID.randomUUID();
    private final String mrn = "MRN-CANARY-" + Fakes.digits(9);

    @Test
    void phiNeverReachesLogsDatabaseOrDisk(CapturedOutput output) throws Exception {
        // a service client's secret must not be stored either: only its Argon2id hash
        String clientSecret = serviceClients.create("canary-client").clientSecret();
        List<String> canaries = List.of(ssn, family, given, birthDate, note, mrn, clientSecret);
        IGenericClient client = fhirClient();

        Patient patient = new Patient();
        patient.addIdentifier().setSystem("http://hl7.org/fhir/sid/us-ssn").setValue(ssn);
        patient.addIdentifier().setSystem("urn:carapace:mrn").setValue(mrn);
        patient.addName().setFamily(family).addGiven(given);
        patient.setBirthDateElement(new DateType(birthDate));
        IdType patientId = (IdType) client.create().resource(patient).execute().getId();

        Observation observation = new Observation();
        observation.setStatus(Observation.ObservationStatus.FINAL);
        observation.getCode().addCoding().setSystem("http://loinc.org").setCode("8302-2");
        observation.setSubject(new Reference("Patient/" + patientId.getIdPart()));
        observation.addNote().setText(note);
        client.create().resource(observation).execute();

        // reads and searches that find the canaries
        assertThat(client.read().resource(Patient.class).withId(patientId.getIdPart()).execute()
                .getNameFirstRep().getFamily()).isEqualTo(family);
        assertThat(search("Patient?identifier=" + enc("http://hl7.org/fhir/sid/us-ssn|" + ssn))).contains(family);
        assertThat(search("Patient?family=" + enc(family.substring(0, 5)))).contains(family);
        assertThat(search("Patient?birthdate=" + birthDate)).contains(family);
        assertThat(search("Observation?patient=" + patientId.getIdPart())).contains(note);
        String asXml = send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + patientId.getIdPart()))
                .header("Accept", "application/fhir+xml").GET()).body();
        assertThat(asXml).contains(family);

        // errors provoked with the canaries
        List<HttpResponse<String>> refusals = new ArrayList<>();
        refusals.add(post("Patient", "{\"resourceType\":\"Patient\",\"birthDate\":\"" + ssn + "\",\"name\":[{\"family\":\""
                + family + "\"}]}"));
        refusals.add(post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"" ));
        refusals.add(post("Patient", "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"" + family
                + "\"/></name><birthDate value=\"" + note + "\"/></Patient>", "application/fhir+xml"));
        refusals.add(post("Patient", "{\"resourceType\":\"Patient\",\"" + given + "\":\"" + mrn + "\"}"));
        refusals.add(get("Patient?identifier=" + enc(ssn) + "&_sort=" + enc(given)));
        refusals.add(get("Patient?" + enc(given) + "=" + enc(ssn)));
        refusals.add(get("Patient?birthdate=" + enc("xx" + birthDate)));
        refusals.add(get("Patient?gender=" + enc(family)));
        refusals.add(get("Patient?family:" + enc(note) + "=" + enc(family)));
        refusals.add(get(enc(family) + "/" + enc(ssn)));
        for (HttpResponse<String> refusal : refusals) {
            assertThat(refusal.statusCode()).as(refusal.request().method() + " " + refusal.request().uri().getPath())
                    .isBetween(400, 499);
            assertThat(refusal.body()).contains("OperationOutcome");
            assertThat(PhiScanner.inText("an error response", refusal.body(), canaries)).isEmpty();
        }

        // a refused request (no token) whose path carries PHI: audited, but not with the PHI
        HttpResponse<String> refused = http().send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/"
                + enc(family) + "/" + enc(ssn))).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(PhiScanner.inText("a refusal", refused.body(), canaries)).isEmpty();

        LoggerFactory.getLogger("some.library").warn("canary probe {}", family);
        List<String> leaks = new ArrayList<>(PhiScanner.inText("log output", output.getAll(), canaries));
        int dbPort = Integer.parseInt(TestInstallation.properties().get("carapace.db.url").toString()
                .replaceAll(".*:(\\d+)/.*", "$1"));
        leaks.addAll(PhiScanner.inText("a COPY dump of every table", PhiScanner.copyDump(dbPort), canaries));
        if (PhiScanner.pgDumpAvailable() || "true".equals(System.getenv("CI"))) {
            leaks.addAll(PhiScanner.inText("pg_dump", PhiScanner.pgDump(dbPort), canaries));
        }
        leaks.addAll(PhiScanner.inFiles(TestInstallation.dataDir(), canaries));
        assertThat(leaks).as("places where PHI canaries were found").isEmpty();
        // the log scan is not vacuous: a line logged with a canary argument was captured, redacted
        assertThat(output.getAll()).contains("canary probe [redacted]");
    }

    private String search(String query) {
        HttpResponse<String> response = get(query);
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    private HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(URI.create(fhirBase() + "/" + path)).GET());
    }

    private HttpResponse<String> post(String type, String body) {
        return post(type, body, "application/fhir+json");
    }

    private HttpResponse<String> post(String type, String body, String contentType) {
        return send(HttpRequest.newBuilder(URI.create(fhirBase() + "/" + type))
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
