package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.PhiScanner;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * PATCH leftovers of issue 17 (ADR 0035): a patched result that is not valid FHIR is named by
 * schema path like a create or update; PATCH entries in transaction and batch Bundles (a Binary
 * holding a JSON Patch, a Parameters FHIRPath Patch) are decided, versioned and audited like a
 * PATCH request; and conditional updates ({@code PUT Type?criteria}) are served inside Bundles.
 */
@ExtendWith(OutputCaptureExtension.class)
class PatchesAndConditionalUpdatesInBundlesTest extends IntegrationTest {

    private static final String JSON_PATCH = "application/json-patch+json";

    private final String stem = "Pib" + Fakes.letters(8);
    private String patient;
    private String observation;

    @BeforeEach
    void aPatientAndAnObservation() {
        patient = created("Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:zq:mrn\",\"value\":\"MRN-"
                + stem + "\"}],\"name\":[{\"family\":\"" + stem + "\"}]}");
        observation = created("Observation", "{\"resourceType\":\"Observation\",\"status\":\"preliminary\",\"code\":"
                + "{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");
    }

    @Test
    void anUnknownElementOrInvalidValueInAPatchResultIsNamedByItsSchemaPathAndNothingIsStored() {
        String canary = "zqcanary" + Fakes.digits(9);
        assertNamed(patch("[{\"op\":\"add\",\"path\":\"/name/0/" + canary + "\",\"value\":\"" + canary + "\"}]"),
                "Patient.name", canary);
        // a name FHIR defines elsewhere is schema, so it is named
        assertNamed(patch("[{\"op\":\"add\",\"path\":\"/status\",\"value\":\"" + canary + "\"}]"), "Patient.status", canary);
        assertNamed(patch("[{\"op\":\"add\",\"path\":\"/birthDate\",\"value\":\"" + canary + "\"}]"),
                "Patient.birthDate", canary);
        assertThat(read("Patient/" + patient, Patient.class).getMeta().getVersionId()).isEqualTo("1");
    }

    @Test
    void aTransactionAppliesAJsonPatchInABinaryAndAFhirPathPatchInParametersAsVersionedUpdates() {
        HttpResponse<String> response = bundle("transaction",
                jsonPatchEntry("Patient/" + patient, "W/\"1\"",
                        "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"" + stem + "x\"}]"),
                fhirPathPatchEntry("Observation/" + observation, null, "Observation.status", "amended"));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        Bundle result = fhir.newJsonParser().parseResource(Bundle.class, response.body());
        assertThat(result.getEntry()).allSatisfy(e -> assertThat(e.getResponse().getStatus()).startsWith("200"));
        Patient patched = read("Patient/" + patient, Patient.class);
        assertThat(patched.getNameFirstRep().getFamily()).isEqualTo(stem + "x");
        assertThat(patched.getMeta().getVersionId()).isEqualTo("2");
        assertThat(read("Observation/" + observation, Observation.class).getStatus())
                .isEqualTo(Observation.ObservationStatus.AMENDED);
        // decided and audited as a patch: the read it needs and the change
        assertThat(eventsOf(response)).contains("viewed|/fhir/Patient/" + patient, "modified|/fhir/Patient/" + patient,
                "modified|/fhir/Observation/" + observation);

        // a stale ifMatch fails the whole transaction: the other entry's patch is not stored either
        HttpResponse<String> stale = bundle("transaction",
                fhirPathPatchEntry("Observation/" + observation, null, "Observation.status", "final"),
                jsonPatchEntry("Patient/" + patient, "W/\"1\"",
                        "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"" + stem + "y\"}]"));
        assertThat(stale.statusCode()).isEqualTo(412);
        assertThat(read("Observation/" + observation, Observation.class).getStatus())
                .isEqualTo(Observation.ObservationStatus.AMENDED);
    }

    @Test
    void aBatchReportsEachPatchEntryOnItsOwn() {
        HttpResponse<String> response = bundle("batch",
                jsonPatchEntry("Patient/" + patient, null,
                        "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"" + stem + "b\"}]"),
                "{\"resource\":{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\",\"data\":\""
                        + base64("[]") + "\"},\"request\":{\"method\":\"PATCH\",\"url\":\"Observation/" + observation + "\"}}");

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        Bundle result = fhir.newJsonParser().parseResource(Bundle.class, response.body());
        assertThat(result.getEntry().get(0).getResponse().getStatus()).startsWith("200");
        assertThat(result.getEntry().get(1).getResponse().getStatus()).startsWith("400");
        assertThat(read("Patient/" + patient, Patient.class).getNameFirstRep().getFamily()).isEqualTo(stem + "b");
        assertThat(read("Observation/" + observation, Observation.class).getMeta().getVersionId()).isEqualTo("1");
    }

    @Test
    void badPatchEntriesAreRefusedStoreNothingAndEchoNothing() {
        String canary = "zqcanary" + Fakes.digits(9);
        java.util.Map<String, Integer> bad = new java.util.LinkedHashMap<>();
        // not UTF-8 inside the Binary (the Bundle's own scan saw base64 only)
        bad.put("{\"resource\":{\"resourceType\":\"Binary\",\"contentType\":\"" + JSON_PATCH + "\",\"data\":\""
                + Base64.getEncoder().encodeToString(new byte[] {'[', (byte) 0xC3, (byte) 0x28, ']'})
                + "\"},\"request\":{\"method\":\"PATCH\",\"url\":\"Patient/" + patient + "\"}}", 400);
        // the same key twice in one operation (a lenient reader would apply the second)
        bad.put(jsonPatchEntry("Patient/" + patient, null, "[{\"op\":\"test\",\"op\":\"replace\",\"path\":"
                + "\"/name/0/family\",\"value\":\"" + canary + "\"}]"), 400);
        // a control character, which FHIR strings cannot hold
        bad.put(jsonPatchEntry("Patient/" + patient, null, "[{\"op\":\"replace\",\"path\":\"/name/0/family\","
                + "\"value\":\"" + canary + "\\u0000\"}]"), 400);
        // nested deeper than any request body may be (the Bundle itself is shallow)
        bad.put(jsonPatchEntry("Patient/" + patient, null, "[{\"op\":\"add\",\"path\":\"/extension\",\"value\":"
                + "[".repeat(300) + "\"" + canary + "\"" + "]".repeat(300) + "}]"), 400);
        // what the server owns
        bad.put(jsonPatchEntry("Patient/" + patient, null, "[{\"op\":\"replace\",\"path\":\"/id\",\"value\":\""
                + canary + "\"}]"), 400);
        // a test that fails: the one 422
        bad.put(jsonPatchEntry("Patient/" + patient, null, "[{\"op\":\"test\",\"path\":\"/name/0/family\","
                + "\"value\":\"" + canary + "\"}]"), 422);
        // neither a JSON Patch nor a FHIRPath Patch
        bad.put("{\"resource\":{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + canary + "\"}]},"
                + "\"request\":{\"method\":\"PATCH\",\"url\":\"Patient/" + patient + "\"}}", 400);
        // conditional and unknown targets
        bad.put(jsonPatchEntry("Patient?identifier=" + canary, null, "[{\"op\":\"remove\",\"path\":\"/gender\"}]"),
                400);
        bad.put(jsonPatchEntry("Patient/" + UUID.randomUUID(), null, "[{\"op\":\"remove\",\"path\":\"/gender\"}]"),
                404);
        // FHIRPath functions
        bad.put(fhirPathPatchEntry("Patient/" + patient, null, "Patient.name.where(family='x')", canary), 400);
        for (var entry : bad.entrySet()) {
            HttpResponse<String> response = bundle("transaction", entry.getKey());
            assertThat(response.statusCode()).as(entry.getKey()).isEqualTo(entry.getValue());
            OperationOutcome outcome = Refusals.outcomeOf(response);
            assertThat(outcome.getIssueFirstRep().getDiagnostics()).as(entry.getKey()).doesNotContain(canary);
            assertThat(response.body()).doesNotContain(canary).doesNotContain(canary.substring(8));
        }
        assertThat(read("Patient/" + patient, Patient.class).getMeta().getVersionId()).isEqualTo("1");
    }

    @Test
    void aPatchEntryNeedsTheReadDecisionToo() {
        String editOnly = tokenWithRoles("bundle-patch-edit-only", TestPolicy.EDIT_ONLY);
        HttpResponse<String> response = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir"))
                .header("Authorization", "Bearer " + editOnly).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(bundleJson("transaction", jsonPatchEntry("Patient/" + patient,
                        null, "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"" + stem + "e\"}]")))));
        assertThat(response.statusCode()).isEqualTo(403);
        // a clinician with no care relationship to the patient: refused before anything is read
        String clinician = tokenWithRoles("bundle-patch-clinician", TestPolicy.CLINICIAN);
        HttpResponse<String> outsider = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir"))
                .header("Authorization", "Bearer " + clinician).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(bundleJson("batch", fhirPathPatchEntry(
                        "Observation/" + observation, null, "Observation.status", "amended")))));
        assertThat(outsider.statusCode()).isEqualTo(200);
        assertThat(fhir.newJsonParser().parseResource(Bundle.class, outsider.body()).getEntryFirstRep().getResponse()
                .getStatus()).startsWith("403");
        assertThat(read("Patient/" + patient, Patient.class).getMeta().getVersionId()).isEqualTo("1");
        assertThat(read("Observation/" + observation, Observation.class).getMeta().getVersionId()).isEqualTo("1");
    }

    @Test
    void aConditionalUpdateInATransactionUpdatesItsMatchOrCreatesAndReferencesFollowIt() {
        String criteria = "identifier=" + enc("urn:zq:mrn|MRN-" + stem);
        String newCriteria = "identifier=" + enc("urn:zq:mrn|NEW-" + stem);
        String urn = "urn:uuid:2b4d6f81-93a5-4c7e-8f10-a3c5e7092b4d";
        HttpResponse<String> response = bundle("transaction",
                "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                        + "\"subject\":{\"reference\":\"" + urn + "\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}",
                "{\"resource\":{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:zq:mrn\",\"value\":\"MRN-" + stem
                        + "\"}],\"name\":[{\"family\":\"" + stem + "u\"}]},\"request\":{\"method\":\"PUT\",\"url\":\"Patient?"
                        + criteria + "\"}}",
                "{\"fullUrl\":\"" + urn + "\",\"resource\":{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":"
                        + "\"urn:zq:mrn\",\"value\":\"NEW-" + stem + "\"}],\"name\":[{\"family\":\"" + stem + "n\"}]},"
                        + "\"request\":{\"method\":\"PUT\",\"url\":\"Patient?" + newCriteria + "\"}}");

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        Bundle result = fhir.newJsonParser().parseResource(Bundle.class, response.body());
        assertThat(result.getEntry().get(1).getResponse().getStatus()).startsWith("200");
        assertThat(result.getEntry().get(1).getResponse().getLocation()).contains(patient);
        assertThat(result.getEntry().get(2).getResponse().getStatus()).startsWith("201");
        assertThat(read("Patient/" + patient, Patient.class).getNameFirstRep().getFamily()).isEqualTo(stem + "u");
        Bundle created = search("Patient?" + newCriteria);
        assertThat(created.getTotal()).isEqualTo(1);
        String createdId = created.getEntryFirstRep().getResource().getIdElement().getIdPart();
        assertThat(search("Observation?patient=" + createdId).getTotal()).isEqualTo(1);
        // a URL searching another type than the resource carried is refused
        HttpResponse<String> mismatched = bundle("transaction", "{\"resource\":{\"resourceType\":\"Patient\",\"active\":true},"
                + "\"request\":{\"method\":\"PUT\",\"url\":\"Observation?" + criteria + "\"}}");
        assertThat(mismatched.statusCode()).isEqualTo(400);
    }

    @Test
    void badConditionalUpdateEntriesAreRefusedStoreNothingAndEchoNothing() {
        String canary = "Zqcanary" + Fakes.letters(9);
        String body = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + canary + "\"}]}";
        for (String url : new String[] {
                "Patient?", // no criteria
                "Patient?identifier=%ZZ" + canary, // not percent-encoded UTF-8
                "Patient?identifier=%00" + canary, // a control character (found attacking start-dev: it created)
                "Patient?_count=1", // a result parameter is no criterion
                "Patient?gender=female", // not served by a blind index
                "Observation?identifier=" + canary}) { // another type than the body's
            for (String type : new String[] {"transaction", "batch"}) {
                HttpResponse<String> response = bundle(type, "{\"resource\":" + body + ",\"request\":{\"method\":\"PUT\","
                        + "\"url\":\"" + url + "\"}}");
                String status = type.equals("batch") && response.statusCode() == 200
                        ? fhir.newJsonParser().parseResource(Bundle.class, response.body()).getEntryFirstRep().getResponse()
                                .getStatus()
                        : Integer.toString(response.statusCode());
                assertThat(status).as(type + " " + url).startsWith("400");
                assertThat(response.body()).as(url).doesNotContain(canary);
            }
        }
        assertThat(search("Patient?family=" + canary).getTotal()).isZero();
    }

    /**
     * Canaries patched in through Bundles, accepted and refused (a failed test, a value too deep,
     * a conditional update with bad criteria), appear in no log line, nowhere in the database
     * outside ciphertext, and in no file of the data directory.
     */
    @Test
    void patchedAndRefusedCanariesLeaveNoTrace(CapturedOutput output) {
        String stored = "Zqstored" + Fakes.letters(12);
        String refused = "Zqrefused" + Fakes.letters(12);
        assertThat(bundle("transaction", jsonPatchEntry("Patient/" + patient, null,
                "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"" + stored + "\"}]"))).extracting(
                HttpResponse::statusCode).isEqualTo(200);
        assertThat(bundle("batch", fhirPathPatchEntry("Observation/" + observation, null, "Observation.status",
                "amended"))).extracting(HttpResponse::statusCode).isEqualTo(200);
        assertThat(bundle("transaction", jsonPatchEntry("Patient/" + patient, null, "[{\"op\":\"test\",\"path\":"
                + "\"/name/0/family\",\"value\":\"" + refused + "\"}]"))).extracting(HttpResponse::statusCode)
                .isEqualTo(422);
        assertThat(bundle("transaction", jsonPatchEntry("Patient/" + patient, null, "[{\"op\":\"add\",\"path\":"
                + "\"/extension\",\"value\":" + "[".repeat(200) + "\"" + refused + "\"" + "]".repeat(200) + "}]")))
                .extracting(HttpResponse::statusCode).isEqualTo(400);
        assertThat(patch("[{\"op\":\"add\",\"path\":\"/name/0/" + refused + "\",\"value\":\"" + refused + "\"}]"))
                .extracting(HttpResponse::statusCode).isEqualTo(422);
        assertThat(bundle("transaction", "{\"resource\":{\"resourceType\":\"Patient\",\"name\":[{\"family\":\""
                + refused + "\"}]},\"request\":{\"method\":\"PUT\",\"url\":\"Patient?gender=" + refused + "\"}}"))
                .extracting(HttpResponse::statusCode).isEqualTo(400);

        List<String> canaries = List.of(stored, refused);
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

    // --- helpers

    private void assertNamed(HttpResponse<String> response, String path, String canary) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(422);
        OperationOutcome outcome = Refusals.outcomeOf(response);
        assertThat(outcome.getIssueFirstRep().getExpression()).extracting(e -> e.getValue()).as(response.body())
                .containsExactly(path);
        assertThat(outcome.getIssueFirstRep().getDiagnostics()).contains(path);
        assertThat(response.body()).doesNotContain(canary).doesNotContain(canary.substring(8));
    }

    private HttpResponse<String> patch(String jsonPatch) {
        return send(HttpRequest.newBuilder(uri("/fhir/Patient/" + patient)).header("Content-Type", JSON_PATCH)
                .method("PATCH", HttpRequest.BodyPublishers.ofString(jsonPatch)));
    }

    private static String jsonPatchEntry(String url, String ifMatch, String jsonPatch) {
        return "{\"resource\":{\"resourceType\":\"Binary\",\"contentType\":\"" + JSON_PATCH + "\",\"data\":\""
                + base64(jsonPatch) + "\"},\"request\":{\"method\":\"PATCH\",\"url\":\"" + url + "\""
                + (ifMatch == null ? "" : ",\"ifMatch\":\"" + ifMatch.replace("\"", "\\\"") + "\"") + "}}";
    }

    private static String fhirPathPatchEntry(String url, String ifMatch, String path, String code) {
        return "{\"resource\":{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"operation\",\"part\":["
                + "{\"name\":\"type\",\"valueCode\":\"replace\"},{\"name\":\"path\",\"valueString\":\""
                + path.replace("'", "\\u0027") + "\"},{\"name\":\"value\",\"valueCode\":\"" + code + "\"}]}]},"
                + "\"request\":{\"method\":\"PATCH\",\"url\":\"" + url + "\""
                + (ifMatch == null ? "" : ",\"ifMatch\":\"" + ifMatch.replace("\"", "\\\"") + "\"") + "}}";
    }

    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String bundleJson(String type, String... entries) {
        return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[" + String.join(",", entries) + "]}";
    }

    private HttpResponse<String> bundle(String type, String... entries) {
        return send(HttpRequest.newBuilder(uri("/fhir")).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(bundleJson(type, entries))));
    }

    private String created(String type, String json) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir/" + type))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(json)));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(response.body()).getIdElement().getIdPart();
    }

    private <T extends org.hl7.fhir.instance.model.api.IBaseResource> T read(String path, Class<T> type) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir/" + path)).GET());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return fhir.newJsonParser().parseResource(type, response.body());
    }

    private Bundle search(String path) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir/" + path)).GET());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return fhir.newJsonParser().parseResource(Bundle.class, response.body());
    }

    /** The audit events of one request, as action|resource. */
    private java.util.List<String> eventsOf(HttpResponse<String> response) {
        String requestId = response.headers().firstValue("X-Request-Id").orElseThrow();
        return JdbcClient.create(dataSource)
                .sql("select action || '|' || (convert_from(body, 'UTF8')::jsonb ->> 'resource') from audit.event "
                        + "where convert_from(body, 'UTF8')::jsonb ->> 'request_id' = ?")
                .param(requestId).query(String.class).list();
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
