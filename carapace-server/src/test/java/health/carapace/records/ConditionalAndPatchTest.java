package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.api.MethodOutcome;
import health.carapace.access.CareRelationships;
import health.carapace.audit.AuditContext;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestPolicy;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Writes as real clients send them (issue 17): JSON Patch through the update path (decided,
 * versioned, If-Match honoured, masked values never probed or stored), and conditional create
 * (also in transactions), update and delete resolved by a search in the caller's scope.
 */
class ConditionalAndPatchTest extends IntegrationTest {

    private static final String SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn";
    private static final String JSON_PATCH = "application/json-patch+json";

    @Autowired
    CareRelationships relationships;

    private final String stem = "Cond" + Fakes.letters(8);
    private final String ssn = "9" + Fakes.digits(2) + "-" + Fakes.digits(2) + "-" + Fakes.digits(4);
    private String patient;

    @BeforeEach
    void aPatientWithAnSsn() {
        patient = create("Patient", patientJson(stem, "MRN-" + stem, true));
    }

    @Test
    void aJsonPatchIsAVersionedUpdateWithIfMatchHonoured() {
        HttpResponse<String> patched = patch(token(), "Patient/" + patient, null,
                "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"" + stem + "x\"}]");
        assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
        Patient after = read(token(), patient);
        assertThat(after.getNameFirstRep().getFamily()).isEqualTo(stem + "x");
        assertThat(after.getMeta().getVersionId()).isEqualTo("2");
        assertThat(after.getIdentifier()).anySatisfy(i -> assertThat(i.getValue()).isEqualTo(ssn));

        HttpResponse<String> stale = patch(token(), "Patient/" + patient, "W/\"1\"",
                "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"" + stem + "y\"}]");
        assertThat(stale.statusCode()).isEqualTo(412);
        assertThat(patch(token(), "Patient/" + patient, "W/\"2\"",
                "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"" + stem + "y\"}]").statusCode()).isEqualTo(200);

        // the HAPI generic client speaks the same PATCH
        MethodOutcome outcome = fhirClient().patch()
                .withBody("[{\"op\":\"add\",\"path\":\"/gender\",\"value\":\"other\"}]")
                .withId(new IdType("Patient", patient)).execute();
        assertThat(outcome.getId().getVersionIdPart()).isEqualTo("4");
    }

    @Test
    void badPatchesAreRefusedAndStoreNothing() {
        List<String> refused400 = List.of("{\"op\":\"add\"}", "not json zqsecret", "[]", "[{\"op\":\"zqsecret\",\"path\":\"/a\"}]",
                "[{\"op\":\"replace\",\"path\":\"/id\",\"value\":\"zqsecret\"}]",
                "[{\"op\":\"replace\",\"path\":\"/resourceType\",\"value\":\"Observation\"}]",
                "[{\"op\":\"add\",\"path\":\"/meta/versionId\",\"value\":\"99\"}]",
                "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"resourceType\":\"Patient\"}}]",
                "[{\"op\":\"move\",\"from\":\"/meta\",\"path\":\"/text\"}]");
        for (String body : refused400) {
            HttpResponse<String> response = patch(token(), "Patient/" + patient, null, body);
            assertThat(response.statusCode()).as(body).isEqualTo(400);
            assertThat(response.body()).doesNotContain("zqsecret");
        }
        for (String body : List.of("[{\"op\":\"remove\",\"path\":\"/contact/7\"}]",
                "[{\"op\":\"add\",\"path\":\"/zqsecret\",\"value\":1}]",
                "[{\"op\":\"test\",\"path\":\"/gender\",\"value\":\"zqsecret\"}]")) {
            HttpResponse<String> response = patch(token(), "Patient/" + patient, null, body);
            assertThat(response.statusCode()).as(body).isEqualTo(422);
            assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getSeverity())
                    .isEqualTo(OperationOutcome.IssueSeverity.ERROR);
            assertThat(response.body()).doesNotContain("zqsecret");
        }
        assertThat(read(token(), patient).getMeta().getVersionId()).isEqualTo("1");
        // XML Patch is named as not supported (FHIRPath Patch is served: FhirPathPatchTest)
        HttpResponse<String> xmlPatch = send(token(), HttpRequest.newBuilder(uri("/fhir/Patient/" + patient))
                .header("Content-Type", "application/xml-patch+xml")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("<diff/>")));
        assertThat(xmlPatch.statusCode()).isEqualTo(415);
        assertThat(Refusals.outcomeOf(xmlPatch).getIssueFirstRep().getDiagnostics()).contains("JSON Patch");
        assertThat(patch(token(), "Patient/" + java.util.UUID.randomUUID(), null,
                "[{\"op\":\"add\",\"path\":\"/gender\",\"value\":\"other\"}]").statusCode()).isEqualTo(404);
    }

    /** Found attacking start-dev: these were 500s. Each is a 400 now, nothing stored, nothing echoed. */
    @Test
    void deepDuplicateKeyedAndUnparsableInputsAreRefusedNotA500() {
        String deep = "[{\"op\":\"add\",\"path\":\"/x\",\"value\":" + "[".repeat(3000) + "]".repeat(3000) + "}]";
        HttpResponse<String> tooDeep = patch(token(), "Patient/" + patient, null, deep);
        assertThat(tooDeep.statusCode()).isEqualTo(400);
        HttpResponse<String> duplicate = patch(token(), "Patient/" + patient, null,
                "[{\"op\":\"add\",\"op\":\"remove\",\"path\":\"/gender\",\"value\":\"other\"}]");
        assertThat(duplicate.statusCode()).isEqualTo(400);
        HttpResponse<String> control = patch(token(), "Patient/" + patient, null,
                "[{\"op\":\"add\",\"path\":\"/gender\",\"value\":\"zq\u0000\"}]");
        assertThat(control.statusCode()).isEqualTo(400);
        // review finding F4: escaped in JSON, decoded to a control character or a lone surrogate
        for (String escaped : List.of("a\\u0001b", "a\\ud800b")) {
            HttpResponse<String> response = patch(token(), "Patient/" + patient, null,
                    "[{\"op\":\"add\",\"path\":\"/name/0/family\",\"value\":\"" + escaped + "\"}]");
            assertThat(response.statusCode()).as(escaped).isEqualTo(400);
            assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getDiagnostics()).contains("control character");
        }
        for (String path : List.of("_history?_since=zq-99", "Patient/_history?_since=zq-99",
                "Patient/" + patient + "/$everything?_since=zq-99")) {
            HttpResponse<String> response = get(token(), path);
            assertThat(response.statusCode()).as(path).isEqualTo(400);
            assertThat(response.body()).doesNotContain("zq-99");
        }
        assertThat(read(token(), patient).getMeta().getVersionId()).isEqualTo("1");
    }

    @Test
    void aCallerWithoutViewSsnPatchesTheMaskedViewAndCanNeitherProbeNorOverwriteTheSsn() {
        String frontDesk = tokenWithRoles("patch-front-desk", "records-service");
        // a test against the real SSN fails: the caller patches what it reads, the masked value
        HttpResponse<String> probe = patch(frontDesk, "Patient/" + patient, null,
                "[{\"op\":\"test\",\"path\":\"/identifier/1/value\",\"value\":\"" + ssn + "\"}]");
        assertThat(probe.statusCode()).isEqualTo(422);
        // copying the masked value elsewhere copies the mask, never the SSN
        HttpResponse<String> copied = patch(frontDesk, "Patient/" + patient, null,
                "[{\"op\":\"copy\",\"from\":\"/identifier/1/value\",\"path\":\"/name/0/text\"},"
                        + "{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"" + stem + "m\"}]");
        assertThat(copied.statusCode()).as(copied.body()).isEqualTo(200);
        assertThat(copied.body()).doesNotContain(ssn);
        Patient stored = read(token(), patient);
        assertThat(stored.getNameFirstRep().getFamily()).isEqualTo(stem + "m");
        assertThat(stored.getNameFirstRep().getText()).doesNotContain(ssn.substring(0, 6));
        assertThat(stored.getIdentifier()).anySatisfy(i -> assertThat(i.getValue()).isEqualTo(ssn));
    }

    /** Review finding F2: a test or copy reads the record, so a patch is decided and audited as a read too. */
    @Test
    void aPatchReadsTheRecordSoItNeedsTheReadDecisionAndLeavesADurableViewedEvent() {
        String editOnly = tokenWithRoles("patch-edit-only", TestPolicy.EDIT_ONLY);
        String probe = "[{\"op\":\"test\",\"path\":\"/name/0/family\",\"value\":\"" + stem + "\"},"
                + "{\"op\":\"replace\",\"path\":\"/gender\",\"value\":\"other\"}]";
        AccessEnforcementTest.assertRefused(patch(editOnly, "Patient/" + patient, null, probe), "no-permission");
        // a failing test rolls the write back, but not the event saying the record was read
        HttpResponse<String> failed = patch(token(), "Patient/" + patient, null,
                "[{\"op\":\"test\",\"path\":\"/name/0/family\",\"value\":\"zq" + stem + "\"}]");
        assertThat(failed.statusCode()).isEqualTo(422);
        assertThat(eventsOf(failed)).contains("viewed|Patient/" + patient);
        // one answer for every patch that cannot be applied: a missing path, a failed test, invalid FHIR
        HttpResponse<String> missingPath = patch(token(), "Patient/" + patient, null,
                "[{\"op\":\"remove\",\"path\":\"/contact/7\"}]");
        HttpResponse<String> invalid = patch(token(), "Patient/" + patient, null,
                "[{\"op\":\"add\",\"path\":\"/gender\",\"value\":{\"a\":1}}]");
        assertThat(List.of(missingPath, invalid)).allSatisfy(response -> {
            assertThat(response.statusCode()).isEqualTo(422);
            assertThat(withoutRequestId(response)).isEqualTo(withoutRequestId(failed));
        });
        assertThat(read(token(), patient).getMeta().getVersionId()).isEqualTo("1");
    }

    @Test
    void aPatchOutsideTheCallersScopeIsRefusedAndAudited() {
        ServiceClients.Credentials clinician = client("patch-clinician", TestPolicy.CLINICIAN);
        String clinicianToken = tokenFor(clinician.clientId(), clinician.clientSecret());
        String observation = create("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{"
                + "\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");
        String body = "[{\"op\":\"replace\",\"path\":\"/status\",\"value\":\"amended\"}]";
        AccessEnforcementTest.assertRefused(patch(clinicianToken, "Observation/" + observation, null, body),
                "no-care-relationship");
        relationships.assign(clinician.clientId(), "Patient/" + patient, "test-admin", AuditContext.none());
        assertThat(patch(clinicianToken, "Observation/" + observation, null, body).statusCode()).isEqualTo(200);
    }

    @Test
    void conditionalCreateFindsTheExistingRecordRefusesSeveralAndCreatesWhenNone() {
        String criteria = "identifier=" + enc("urn:zq:mrn|MRN-" + stem);
        HttpResponse<String> again = post("Patient", patientJson(stem, "MRN-" + stem, false), criteria);
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.headers().firstValue("Location").orElse("")).contains("Patient/" + patient);
        assertThat(search(token(), "Patient?" + criteria).getTotal()).isEqualTo(1);

        HttpResponse<String> fresh = post("Patient", patientJson(stem, "MRN2-" + stem, false),
                "identifier=" + enc("urn:zq:mrn|MRN2-" + stem));
        assertThat(fresh.statusCode()).isEqualTo(201);
        create("Patient", patientJson(stem, "MRN2-" + stem, false));
        HttpResponse<String> several = post("Patient", patientJson(stem, "MRN2-" + stem, false),
                "identifier=" + enc("urn:zq:mrn|MRN2-" + stem));
        assertThat(several.statusCode()).isEqualTo(412);
        HttpResponse<String> unindexed = post("Patient", patientJson(stem, "MRN3-" + stem, false), "gender=female");
        assertThat(unindexed.statusCode()).isEqualTo(400);
        assertThat(Refusals.outcomeOf(unindexed).getIssueFirstRep().getDiagnostics()).contains("blind indexes");
        HttpResponse<String> shaping = post("Patient", patientJson(stem, "MRN3-" + stem, false), "_count=1");
        assertThat(shaping.statusCode()).isEqualTo(400);
    }

    /** Review finding F3: the search behind a conditional write is on the trail whatever the write's outcome. */
    @Test
    void conditionalMatchesAreAuditedDurably() {
        String criteria = "identifier=" + enc("urn:zq:mrn|MRN-" + stem);
        HttpResponse<String> found = post("Patient", patientJson(stem, "MRN-" + stem, false), criteria);
        assertThat(found.statusCode()).isEqualTo(200);
        assertThat(eventsOf(found)).contains("searched|", "viewed|Patient/" + patient);
        // two patients with one MRN: the 412 rolls the write back, not the search
        create("Patient", patientJson(stem, "MRN-" + stem, false));
        HttpResponse<String> several = post("Patient", patientJson(stem, "MRN-" + stem, false), criteria);
        assertThat(several.statusCode()).isEqualTo(412);
        assertThat(eventsOf(several)).contains("searched|");
    }

    /** Review finding F5: each conditional entry is a search under a lock, so a Bundle holds a bounded number. */
    @Test
    void aBundleWithTooManyConditionalEntriesIsRefusedAndStoresNothing() {
        for (String type : List.of("transaction", "batch")) {
            StringBuilder bundle = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[");
            for (int i = 0; i <= 100; i++) {
                bundle.append(i == 0 ? "" : ",").append("{\"resource\":").append(patientJson(stem + "b", "B" + i + stem, false))
                        .append(",\"request\":{\"method\":\"POST\",\"url\":\"Patient\",\"ifNoneExist\":\"identifier=")
                        .append(enc("urn:zq:mrn|B" + i + stem)).append("\"}}");
            }
            HttpResponse<String> response = send(token(), HttpRequest.newBuilder(uri("/fhir"))
                    .header("Content-Type", "application/fhir+json")
                    .POST(HttpRequest.BodyPublishers.ofString(bundle.append("]}").toString())));
            assertThat(response.statusCode()).as(type).isEqualTo(400);
            assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getDiagnostics()).contains("conditional entries");
        }
        assertThat(search(token(), "Patient?family=" + stem + "b").getTotal()).isZero();
    }

    @Test
    void aConditionalMatchOutsideTheCallersScopeIsNeverRevealed() {
        String code = "urn:zq:code|C" + stem;
        String other = create("Patient", patientJson(stem + "o", "MRN-O-" + stem, false));
        String hidden = create("Observation", observationJson(other, code));
        ServiceClients.Credentials clinician = client("conditional-clinician", TestPolicy.CLINICIAN);
        String clinicianToken = tokenFor(clinician.clientId(), clinician.clientSecret());
        relationships.assign(clinician.clientId(), "Patient/" + patient, "test-admin", AuditContext.none());
        // an Observation with that code exists, but not in the clinician's scope: the create goes ahead
        // as if there were none, and nothing of the hidden record is in the answer
        HttpResponse<String> created = send(clinicianToken, HttpRequest.newBuilder(uri("/fhir/Observation"))
                .header("Content-Type", "application/fhir+json")
                .header("If-None-Exist", "code=" + enc(code))
                .POST(HttpRequest.BodyPublishers.ofString(observationJson(patient, code))));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(created.body()).doesNotContain(hidden).doesNotContain(other);
        assertThat(created.headers().firstValue("Location").orElse("")).doesNotContain(hidden);
        // in scope now: the one the clinician created is found, the hidden one still is not
        HttpResponse<String> found = send(clinicianToken, HttpRequest.newBuilder(uri("/fhir/Observation"))
                .header("Content-Type", "application/fhir+json")
                .header("If-None-Exist", "code=" + enc(code))
                .POST(HttpRequest.BodyPublishers.ofString(observationJson(patient, code))));
        assertThat(found.statusCode()).isEqualTo(200);
        assertThat(found.headers().firstValue("Location").orElse("")).doesNotContain(hidden);
        // a conditional delete with the same criteria touches nothing outside the scope
        HttpResponse<String> deleted = send(clinicianToken, HttpRequest.newBuilder(uri("/fhir/Observation?code="
                + enc(code))).DELETE());
        assertThat(deleted.statusCode()).isIn(200, 204);
        assertThat(get(token(), "Observation/" + hidden).statusCode()).isEqualTo(200);
        // an SSN as criteria is refused without view:ssn, as a search would be
        String frontDesk = tokenWithRoles("conditional-front-desk", "records-service");
        HttpResponse<String> ssnProbe = send(frontDesk, HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json")
                .header("If-None-Exist", "identifier=" + enc(SSN_SYSTEM + "|" + ssn))
                .POST(HttpRequest.BodyPublishers.ofString(patientJson(stem, "MRN4-" + stem, false))));
        AccessEnforcementTest.assertRefused(ssnProbe, "ssn-search-needs-view-ssn");
    }

    @Test
    void conditionalUpdateAndDeleteResolveTheirCriteria() {
        String criteria = "identifier=" + enc("urn:zq:mrn|MRN-" + stem);
        HttpResponse<String> updated = send(token(), HttpRequest.newBuilder(uri("/fhir/Patient?" + criteria))
                .header("Content-Type", "application/fhir+json")
                .PUT(HttpRequest.BodyPublishers.ofString(patientJson(stem + "u", "MRN-" + stem, true))));
        assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
        assertThat(read(token(), patient).getNameFirstRep().getFamily()).isEqualTo(stem + "u");
        HttpResponse<String> createdByPut = send(token(), HttpRequest.newBuilder(uri("/fhir/Patient?identifier="
                        + enc("urn:zq:mrn|NEW-" + stem)))
                .header("Content-Type", "application/fhir+json")
                .PUT(HttpRequest.BodyPublishers.ofString(patientJson(stem, "NEW-" + stem, false))));
        assertThat(createdByPut.statusCode()).isEqualTo(201);
        HttpResponse<String> deleted = send(token(), HttpRequest.newBuilder(uri("/fhir/Patient?" + criteria)).DELETE());
        assertThat(deleted.statusCode()).isIn(200, 204);
        assertThat(get(token(), "Patient/" + patient).statusCode()).isEqualTo(410);
    }

    @Test
    void aTransactionsConditionalCreatePointsReferencesAtTheRecordFound() {
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + "{\"fullUrl\":\"urn:uuid:5f4e1a52-8d1c-4a55-9a39-0c1b8f0e7a11\",\"resource\":"
                + patientJson(stem, "MRN-" + stem, false) + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\","
                + "\"ifNoneExist\":\"identifier=" + enc("urn:zq:mrn|MRN-" + stem) + "\"}},"
                + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"urn:uuid:5f4e1a52-8d1c-4a55-9a39-0c1b8f0e7a11\"}},"
                + "\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}";
        HttpResponse<String> response = send(token(), HttpRequest.newBuilder(uri("/fhir"))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(bundle)));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        Bundle result = fhir.newJsonParser().parseResource(Bundle.class, response.body());
        assertThat(result.getEntry().get(0).getResponse().getStatus()).startsWith("200");
        assertThat(result.getEntry().get(0).getResponse().getLocation()).contains(patient);
        assertThat(search(token(), "Observation?patient=" + patient).getTotal()).isEqualTo(1);
        assertThat(search(token(), "Patient?identifier=" + enc("urn:zq:mrn|MRN-" + stem)).getTotal()).isEqualTo(1);
    }

    // --- helpers

    private String patientJson(String family, String mrn, boolean withSsn) {
        return "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:zq:mrn\",\"value\":\"" + mrn + "\"}"
                + (withSsn ? ",{\"system\":\"" + SSN_SYSTEM + "\",\"value\":\"" + ssn + "\"}" : "")
                + "],\"name\":[{\"family\":\"" + family + "\"}]}";
    }

    private static String observationJson(String patient, String code) {
        String[] systemAndCode = code.split("\\|");
        return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\""
                + systemAndCode[0] + "\",\"code\":\"" + systemAndCode[1] + "\"}]},\"subject\":{\"reference\":\"Patient/"
                + patient + "\"}}";
    }

    private String create(String type, String json) {
        HttpResponse<String> response = post(type, json, null);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(response.body()).getIdElement().getIdPart();
    }

    private HttpResponse<String> post(String type, String json, String ifNoneExist) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/fhir/" + type))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(json));
        if (ifNoneExist != null) {
            request.header("If-None-Exist", ifNoneExist);
        }
        return send(token(), request);
    }

    private HttpResponse<String> patch(String token, String path, String ifMatch, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/fhir/" + path)).header("Content-Type", JSON_PATCH)
                .method("PATCH", HttpRequest.BodyPublishers.ofString(body));
        if (ifMatch != null) {
            request.header("If-Match", ifMatch);
        }
        return send(token, request);
    }

    private HttpResponse<String> get(String token, String path) {
        return send(token, HttpRequest.newBuilder(uri("/fhir/" + path)).GET());
    }

    private HttpResponse<String> send(String token, HttpRequest.Builder request) {
        return sendWithoutToken(request.header("Authorization", "Bearer " + token));
    }

    private Patient read(String token, String id) {
        HttpResponse<String> response = get(token, "Patient/" + id);
        assertThat(response.statusCode()).isEqualTo(200);
        return fhir.newJsonParser().parseResource(Patient.class, response.body());
    }

    private Bundle search(String token, String path) {
        HttpResponse<String> response = get(token, path);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return fhir.newJsonParser().parseResource(Bundle.class, response.body());
    }

    private static String withoutRequestId(HttpResponse<String> response) {
        return Refusals.outcomeOf(response).getIssueFirstRep().getDiagnostics().replaceAll(" \\(request id [^)]*\\)", "");
    }

    /** The audit events of one request, as action|patient. */
    private List<String> eventsOf(HttpResponse<String> response) {
        String requestId = response.headers().firstValue("X-Request-Id").orElseThrow();
        return org.springframework.jdbc.core.simple.JdbcClient.create(dataSource)
                .sql("select action || '|' || coalesce(patient, '') from audit.event "
                        + "where convert_from(body, 'UTF8')::jsonb ->> 'request_id' = ?")
                .param(requestId).query(String.class).list();
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
