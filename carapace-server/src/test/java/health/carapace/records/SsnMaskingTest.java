package health.carapace.records;

import static health.carapace.records.AccessEnforcementTest.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.access.CareRelationships;
import health.carapace.audit.AuditContext;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestPolicy;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * SSN identifiers reach a caller without view:ssn as {@code ***-**-6789} in every response that
 * carries them (read, vread, history, search, bundles, contained resources, a create's echo); the
 * stored record is unchanged; searching by SSN without view:ssn is refused.
 */
class SsnMaskingTest extends IntegrationTest {

    static final String SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn";

    @Autowired
    CareRelationships relationships;

    private final String last4 = Fakes.digits(4);
    private final String ssn = "9" + Fakes.digits(2) + "-" + Fakes.digits(2) + "-" + last4;
    private final String mrn = "MRN-" + Fakes.digits(9);
    private final String family = "Masked" + Fakes.letters(8);
    private String patient;
    private String clinician;
    private String clinicianId;

    @BeforeEach
    void aPatientWithAnSsnAndAClinicianInCare() {
        patient = create("Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" + SSN_SYSTEM
                + "\",\"value\":\"" + ssn + "\"},{\"system\":\"urn:carapace:mrn\",\"value\":\"" + mrn + "\"}],"
                + "\"name\":[{\"family\":\"" + family + "\"}]}");
        ServiceClients.Credentials client = client("masked-clinician", TestPolicy.CLINICIAN);
        relationships.assign(client.clientId(), "Patient/" + patient, "test-admin", AuditContext.none());
        clinician = tokenFor(client.clientId(), client.clientSecret());
        clinicianId = client.clientId();
    }

    @Test
    void everyResponseToACallerWithoutViewSsnCarriesTheMaskedSsnAndTheStoredRecordIsUnchanged() {
        String masked = "***-**-" + last4;
        String containing = create("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\","
                + "\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"p1\",\"identifier\":[{\"system\":\"" + SSN_SYSTEM
                + "\",\"value\":\"" + ssn + "\"}]}],\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/"
                + patient + "\"},\"performer\":[{\"reference\":\"#p1\"}]}");
        String batch = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":{\"method\":\"GET\","
                + "\"url\":\"Patient/" + patient + "\"}}]}";
        for (HttpResponse<String> response : java.util.List.of(
                get(clinician, "Patient/" + patient),
                get(clinician, "Patient/" + patient + "/_history/1"),
                get(clinician, "Patient/" + patient + "/_history"),
                get(clinician, "Patient?family=" + family),
                get(clinician, "Observation/" + containing),
                post(clinician, "", batch),
                get(clinician, "Patient?_id=" + patient + "&_format=xml"))) {
            assertThat(response.statusCode()).as(response.request().uri().getPath()).isEqualTo(200);
            assertThat(response.body()).as(response.request().uri().getPath()).doesNotContain(ssn).contains(masked);
        }
        // other identifiers are untouched
        assertThat(get(clinician, "Patient/" + patient).body()).contains(mrn);
        // the echo of a create by the caller who sent the SSN is masked too
        HttpResponse<String> echo = post(clinician, "Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\","
                + "\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"p1\",\"identifier\":[{\"system\":\"" + SSN_SYSTEM
                + "\",\"value\":\"" + ssn + "\"}]}],\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/"
                + patient + "\"},\"performer\":[{\"reference\":\"#p1\"}]}");
        assertThat(echo.statusCode()).isEqualTo(201);
        assertThat(echo.body()).doesNotContain(ssn).contains(masked);
        String echoed = fhir.newJsonParser().parseResource(echo.body()).getIdElement().getIdPart();

        // stored data is unchanged: a caller with view:ssn reads the full value, every version
        assertThat(get(token(), "Patient/" + patient).body()).contains(ssn);
        assertThat(get(token(), "Patient/" + patient + "/_history/1").body()).contains(ssn);
        assertThat(get(token(), "Observation/" + echoed).body()).contains(ssn);
        assertThat(get(token(), "Patient?identifier=" + enc(SSN_SYSTEM + "|" + ssn)).body()).contains(patient);
    }

    @Test
    void searchingBySsnWithoutViewSsnIsRefusedSoItCannotConfirmOne() {
        assertRefused(get(clinician, "Patient?identifier=" + enc(SSN_SYSTEM + "|" + ssn)), "ssn-search-needs-view-ssn");
        // an identifier without a system could match an SSN: refused as well
        assertRefused(get(clinician, "Patient?identifier=" + enc(ssn)), "ssn-search-needs-view-ssn");
        assertRefused(get(clinician, "Patient?identifier=" + enc("urn:carapace:mrn|" + mrn + "," + ssn)),
                "ssn-search-needs-view-ssn");
        HttpResponse<String> byMrn = get(clinician, "Patient?identifier=" + enc("urn:carapace:mrn|" + mrn));
        assertThat(byMrn.statusCode()).isEqualTo(200);
        assertThat(byMrn.body()).contains(patient).doesNotContain(ssn);
    }

    @Test
    void anSsnUnderItsOidTypedSsOrInTheNarrativeIsMaskedAndCannotBeSearchedFor() {
        String oidSsn = "8" + Fakes.digits(2) + "-" + Fakes.digits(2) + "-" + Fakes.digits(4);
        String typedSsn = Fakes.digits(9);
        String other = create("Patient", "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
                + "\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">SSN " + ssn + ", also " + typedSsn + "</div>\"},"
                + "\"identifier\":[{\"system\":\"urn:oid:2.16.840.1.113883.4.1\",\"value\":\"" + oidSsn + "\"},"
                + "{\"type\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v2-0203\",\"code\":\"SS\"}]},"
                + "\"system\":\"urn:example:state-ssn\",\"value\":\"" + typedSsn + "\"}]}");
        relationships.assign(clinicianId, "Patient/" + other, "test-admin", AuditContext.none());
        for (HttpResponse<String> response : java.util.List.of(get(clinician, "Patient/" + other),
                get(clinician, "Patient/" + other + "?_format=xml"))) {
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).doesNotContain(oidSsn).doesNotContain(typedSsn).doesNotContain(ssn)
                    .contains("***-**-" + oidSsn.substring(oidSsn.length() - 4))
                    .contains("***-**-" + typedSsn.substring(5)).contains("***-**-" + last4);
        }
        assertRefused(get(clinician, "Patient?identifier=" + enc("urn:oid:2.16.840.1.113883.4.1|" + oidSsn)),
                "ssn-search-needs-view-ssn");
        // stored unchanged
        assertThat(get(token(), "Patient/" + other).body()).contains(oidSsn).contains(typedSsn).contains(ssn);
    }

    private String create(String type, String json) {
        HttpResponse<String> created = post(token(), type, json);
        assertThat(created.statusCode()).as("create " + type).isEqualTo(201);
        return fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
    }

    private HttpResponse<String> get(String token, String path) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/" + path)).header("Authorization", "Bearer " + token).GET());
    }

    private HttpResponse<String> post(String token, String path, String json) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir" + (path.isEmpty() ? "" : "/" + path)))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
