package health.carapace.records;

import static health.carapace.records.AccessEnforcementTest.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * A caller without view:ssn sees SSNs masked; whatever it writes back, the stored SSNs (in
 * identifiers and in the narrative) survive for everyone, in every later version: masks are
 * restored to the stored values on every write path, and a write that would remove or change an
 * SSN it cannot see is refused (403, nothing stored). Found in review (issue 12, finding 1).
 */
@ExtendWith(OutputCaptureExtension.class)
class MaskedWriteBackTest extends IntegrationTest {

    private static final String SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn";
    private static final String NARRATIVE_PREFIX = "<div xmlns=\"http://www.w3.org/1999/xhtml\">";

    /** records-service: edits demographics and records of all patients, but has no view:ssn. */
    private String frontDesk;
    private final String last4 = Fakes.digits(4);
    private final String ssn = "9" + Fakes.digits(2) + "-" + Fakes.digits(2) + "-" + last4;
    private final String narrativeSsn = "8" + Fakes.digits(8);
    private final String mask = "***-**-" + last4;
    private String patient;

    @BeforeEach
    void aPatientWithAnSsnInAnIdentifierAndInTheNarrative() {
        frontDesk = tokenWithRoles("front-desk", "records-service");
        Patient created = new Patient();
        created.getText().setStatus(org.hl7.fhir.r4.model.Narrative.NarrativeStatus.GENERATED)
                .setDivAsString(NARRATIVE_PREFIX + "Patient, SSN " + ssn + ", old card " + narrativeSsn + "</div>");
        created.addIdentifier().setSystem(SSN_SYSTEM).setValue(ssn);
        created.addIdentifier().setSystem("urn:carapace:mrn").setValue("MRN-" + Fakes.letters(6));
        created.addName().setFamily("WriteBack" + Fakes.letters(8)).addGiven("Before");
        patient = id(send(token(), "POST", "Patient", json(created)), 201);
    }

    @Test
    void aMaskedSsnWrittenBackWithAChangedNameKeepsTheRealSsnAndNarrativeInTheNewVersion() {
        Patient seen = read(frontDesk);
        assertThat(seen.getIdentifierFirstRep().getValue()).isEqualTo(mask);
        seen.getNameFirstRep().getGiven().clear();
        seen.getNameFirstRep().addGiven("After");

        HttpResponse<String> put = send(frontDesk, "PUT", "Patient/" + patient, json(seen));

        assertThat(put.statusCode()).isEqualTo(200);
        assertThat(put.body()).doesNotContain(ssn).doesNotContain(narrativeSsn);
        assertRealValuesKept(2, "After");
    }

    @Test
    void aMaskedSsnWrittenBackThroughATransactionOrABatchEntryKeepsTheRealSsn() {
        for (String type : new String[] {"transaction", "batch"}) {
            Patient seen = read(frontDesk);
            seen.getNameFirstRep().getGiven().clear();
            seen.getNameFirstRep().addGiven("Via" + type);
            HttpResponse<String> response = send(frontDesk, "POST", "", bundle(type, seen));
            assertThat(response.statusCode()).as(type).isEqualTo(200);
            Bundle result = fhir.newJsonParser().parseResource(Bundle.class, response.body());
            assertThat(result.getEntryFirstRep().getResponse().getStatus()).as(type).startsWith("200");
            assertThat(response.body()).doesNotContain(ssn);
        }
        assertRealValuesKept(3, "Viabatch");
    }

    @Test
    void anEditedNarrativeKeepsTheStoredSsnsBehindItsMasks() {
        Patient seen = read(frontDesk);
        String div = seen.getText().getDivAsString();
        assertThat(div).doesNotContain(ssn).contains(mask);
        seen.getText().setDivAsString(div.replace("Patient,", "Patient (checked in),"));

        assertThat(send(frontDesk, "PUT", "Patient/" + patient, json(seen)).statusCode()).isEqualTo(200);

        String stored = read(token()).getText().getDivAsString();
        assertThat(stored).contains("(checked in)").contains(ssn).contains(narrativeSsn).doesNotContain("***");
    }

    @Test
    void removingOrChangingAnSsnWithoutViewSsnIsRefusedAndNothingIsStored(CapturedOutput output) {
        String probe = "capture-probe-" + java.util.UUID.randomUUID();
        LoggerFactory.getLogger(MaskedWriteBackTest.class).info("Output capture check " + probe);
        String otherSsn = "7" + Fakes.digits(2) + "-" + Fakes.digits(2) + "-" + Fakes.digits(4);
        Patient removed = read(frontDesk);
        removed.getIdentifier().removeIf(i -> SSN_SYSTEM.equals(i.getSystem()));
        Patient changed = read(frontDesk);
        changed.getIdentifierFirstRep().setValue(otherSsn);
        // sending the real value instead of the mask is a change too, or a write would confirm a guess
        Patient clear = read(frontDesk);
        clear.getIdentifierFirstRep().setValue(ssn);
        Patient narrativeDropped = read(frontDesk);
        narrativeDropped.getText().setDivAsString(NARRATIVE_PREFIX + "Patient " + otherSsn + "</div>");
        Patient maskChanged = read(frontDesk);
        maskChanged.getIdentifierFirstRep().setValue("***-**-" + otherSsn.substring(7));

        for (Patient attempt : new Patient[] {removed, changed, clear, narrativeDropped, maskChanged}) {
            HttpResponse<String> put = send(frontDesk, "PUT", "Patient/" + patient, json(attempt));
            assertRefused(put, "ssn-change-needs-view-ssn");
            assertThat(put.body()).doesNotContain(otherSsn).doesNotContain(ssn);

            HttpResponse<String> transaction = send(frontDesk, "POST", "", bundle("transaction", attempt));
            assertThat(transaction.statusCode()).isEqualTo(403);
            assertThat(Refusals.outcomeOf(transaction).getIssueFirstRep().getDiagnostics())
                    .contains("ssn-change-needs-view-ssn");
            assertThat(transaction.body()).doesNotContain(otherSsn).doesNotContain(ssn);

            HttpResponse<String> batch = send(frontDesk, "POST", "", bundle("batch", attempt));
            assertThat(batch.statusCode()).isEqualTo(200);
            Bundle.BundleEntryResponseComponent entry = fhir.newJsonParser().parseResource(Bundle.class, batch.body())
                    .getEntryFirstRep().getResponse();
            assertThat(entry.getStatus()).isEqualTo("403");
            assertThat(((OperationOutcome) entry.getOutcome()).getIssueFirstRep().getDetails().getCodingFirstRep()
                    .getCode()).isEqualTo("ssn-change-needs-view-ssn");
            assertThat(batch.body()).doesNotContain(otherSsn).doesNotContain(ssn);
        }
        assertRealValuesKept(1, "Before");
        assertThat(searchBySsn(otherSsn).getTotal()).isZero();
        assertThat(output.getAll()).contains(probe).doesNotContain(otherSsn).doesNotContain(ssn)
                .doesNotContain(otherSsn.replace("-", ""));
    }

    @Test
    void aCallerWithViewSsnCanStillChangeAnSsn() {
        String otherSsn = "6" + Fakes.digits(2) + "-" + Fakes.digits(2) + "-" + Fakes.digits(4);
        Patient seen = read(token());
        seen.getIdentifierFirstRep().setValue(otherSsn);
        seen.getText().setDivAsString(NARRATIVE_PREFIX + "Patient</div>");

        assertThat(send(token(), "PUT", "Patient/" + patient, json(seen)).statusCode()).isEqualTo(200);

        Patient stored = read(token());
        assertThat(stored.getIdentifierFirstRep().getValue()).isEqualTo(otherSsn);
        assertThat(stored.getText().getDivAsString()).doesNotContain(narrativeSsn);
        assertThat(searchBySsn(otherSsn).getTotal()).isEqualTo(1);
    }

    @Test
    void withoutViewSsnANewPatientMayCarryAClearSsnButNeverAMask() {
        String newSsn = "5" + Fakes.digits(2) + "-" + Fakes.digits(2) + "-" + Fakes.digits(4);
        Patient registered = new Patient();
        registered.addIdentifier().setSystem(SSN_SYSTEM).setValue(newSsn);
        registered.addName().setFamily("Registered" + Fakes.letters(8));
        String id = id(send(frontDesk, "POST", "Patient", json(registered)), 201);
        assertThat(send(token(), "GET", "Patient/" + id, null).body()).contains(newSsn);

        // a copy of a masked read would store the mask as the new patient's SSN
        String copyFamily = "Copied" + Fakes.letters(8);
        Patient copy = read(frontDesk);
        copy.setText(null);
        copy.setId((String) null);
        copy.getNameFirstRep().setFamily(copyFamily);
        assertRefused(send(frontDesk, "POST", "Patient", json(copy)), "masked-ssn-cannot-be-stored");
        assertThat(send(token(), "GET", "Patient?family=" + copyFamily, null).body()).contains("\"total\":0");
    }

    @Test
    void aMaskedSsnInAContainedResourceWrittenBackIsKept() {
        Observation observation = new Observation();
        observation.setStatus(Observation.ObservationStatus.PRELIMINARY);
        observation.getCode().setText("weight");
        observation.getSubject().setReference("Patient/" + patient);
        Patient performer = new Patient();
        performer.setId("p1");
        performer.addIdentifier(new Identifier().setSystem(SSN_SYSTEM).setValue(ssn));
        observation.addContained(performer);
        observation.addPerformer().setReference("#p1");
        String id = id(send(token(), "POST", "Observation", json(observation)), 201);

        Observation seen = fhir.newJsonParser().parseResource(Observation.class,
                send(frontDesk, "GET", "Observation/" + id, null).body());
        assertThat(((Patient) seen.getContained().get(0)).getIdentifierFirstRep().getValue()).isEqualTo(mask);
        seen.setStatus(Observation.ObservationStatus.FINAL);
        assertThat(send(frontDesk, "PUT", "Observation/" + id, json(seen)).statusCode()).isEqualTo(200);

        Observation stored = fhir.newJsonParser().parseResource(Observation.class,
                send(token(), "GET", "Observation/" + id, null).body());
        assertThat(stored.getStatus()).isEqualTo(Observation.ObservationStatus.FINAL);
        assertThat(((Patient) stored.getContained().get(0)).getIdentifierFirstRep().getValue()).isEqualTo(ssn);

        seen.getContained().clear();
        seen.getPerformer().clear();
        assertRefused(send(frontDesk, "PUT", "Observation/" + id, json(seen)), "ssn-change-needs-view-ssn");
    }

    /** The current version is {@code version}, with the real SSN (identifier, narrative, index) and the given name. */
    private void assertRealValuesKept(int version, String given) {
        Patient stored = read(token());
        assertThat(stored.getMeta().getVersionId()).isEqualTo(Integer.toString(version));
        assertThat(stored.getNameFirstRep().getGivenAsSingleString()).isEqualTo(given);
        assertThat(stored.getIdentifierFirstRep().getValue()).isEqualTo(ssn);
        assertThat(stored.getText().getDivAsString()).contains(ssn).contains(narrativeSsn).doesNotContain("***");
        for (int v = 1; v <= version; v++) {
            assertThat(send(token(), "GET", "Patient/" + patient + "/_history/" + v, null).body())
                    .as("version " + v).contains(ssn).doesNotContain(mask);
        }
        Bundle found = searchBySsn(ssn);
        assertThat(found.getTotal()).isEqualTo(1);
        assertThat(found.getEntryFirstRep().getResource().getIdElement().getIdPart()).isEqualTo(patient);
    }

    private Bundle searchBySsn(String value) {
        HttpResponse<String> response = send(token(), "GET", "Patient?identifier="
                + URLEncoder.encode(SSN_SYSTEM + "|" + value, StandardCharsets.UTF_8), null);
        assertThat(response.statusCode()).isEqualTo(200);
        return fhir.newJsonParser().parseResource(Bundle.class, response.body());
    }

    private Patient read(String token) {
        HttpResponse<String> response = send(token, "GET", "Patient/" + patient, null);
        assertThat(response.statusCode()).isEqualTo(200);
        return fhir.newJsonParser().parseResource(Patient.class, response.body());
    }

    private String bundle(String type, Patient resource) {
        Bundle bundle = new Bundle().setType(Bundle.BundleType.fromCode(type));
        bundle.addEntry().setResource(resource).getRequest().setMethod(Bundle.HTTPVerb.PUT).setUrl("Patient/" + patient);
        return json(bundle);
    }

    private String json(org.hl7.fhir.instance.model.api.IBaseResource resource) {
        return fhir.newJsonParser().encodeResourceToString(resource);
    }

    private String id(HttpResponse<String> response, int status) {
        assertThat(response.statusCode()).isEqualTo(status);
        return fhir.newJsonParser().parseResource(response.body()).getIdElement().getIdPart();
    }

    private HttpResponse<String> send(String token, String method, String path, String json) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/fhir" + (path.isEmpty() ? "" : "/" + path)))
                .header("Authorization", "Bearer " + token);
        if (json == null) {
            return sendWithoutToken(request.method(method, HttpRequest.BodyPublishers.noBody()));
        }
        return sendWithoutToken(request.header("Content-Type", "application/fhir+json")
                .method(method, HttpRequest.BodyPublishers.ofString(json)));
    }
}
