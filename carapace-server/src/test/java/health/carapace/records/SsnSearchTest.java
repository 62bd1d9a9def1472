package health.carapace.records;

import static health.carapace.records.AccessEnforcementTest.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * Whatever makes an identifier an SSN for masking makes it one for search: a caller without
 * view:ssn cannot confirm an SSN by searching, whether it is recognised by its system (in any
 * spelling), by its type SS under a custom system, or only by its shape; and no search echoes a
 * searched SSN in {@code Bundle.link}. Found in review (issue 12, finding 2).
 */
@ExtendWith(OutputCaptureExtension.class)
class SsnSearchTest extends IntegrationTest {

    private static final String SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn";
    private static final String CUSTOM = "urn:zq:custom";

    /** records-service: every patient, but no view:ssn. */
    private String frontDesk;
    private final String ssn = "9" + Fakes.digits(2) + "-" + Fakes.digits(2) + "-" + Fakes.digits(4);

    @BeforeEach
    void aCallerWithoutViewSsn() {
        frontDesk = tokenWithRoles("front-desk-search", "records-service");
    }

    @Test
    void anSsnTypedSsUnderACustomSystemCannotBeConfirmedBySearchWithoutViewSsn(CapturedOutput output) {
        String probe = "capture-probe-" + java.util.UUID.randomUUID();
        LoggerFactory.getLogger(SsnSearchTest.class).info("Output capture check " + probe);
        String patient = create(typedSs(ssn));
        String wrong = ssn.substring(0, 10) + (ssn.charAt(10) == '9' ? '0' : (char) (ssn.charAt(10) + 1));
        for (String value : List.of(ssn, wrong, ssn.replace("-", ""), ssn.replace("-", " "))) {
            HttpResponse<String> response = get(frontDesk, "Patient?identifier=" + enc(CUSTOM + "|" + value));
            assertRefused(response, "ssn-search-needs-view-ssn");
            assertThat(response.body()).doesNotContain(value).doesNotContain(ssn);
        }
        Bundle found = search(token(), "Patient?identifier=" + enc(CUSTOM + "|" + ssn));
        assertThat(found.getTotal()).isEqualTo(1);
        assertThat(found.getEntryFirstRep().getResource().getIdElement().getIdPart()).isEqualTo(patient);
        assertThat(output.getAll()).contains(probe).doesNotContain(ssn).doesNotContain(wrong)
                .doesNotContain(ssn.replace("-", ""));
    }

    @Test
    void anSsTypedIdentifierNeverMatchesASearchWithoutViewSsnWhateverItsValueLooksLike() {
        // not SSN-shaped, so not refused up front: it must still not count as a match
        String stateId = "ZQ" + Fakes.digits(7);
        String patient = create(typedSs(stateId));

        assertThat(search(frontDesk, "Patient?identifier=" + enc(CUSTOM + "|" + stateId)).getTotal()).isZero();
        assertThat(search(token(), "Patient?identifier=" + enc(CUSTOM + "|" + stateId)).getEntry())
                .extracting(e -> e.getResource().getIdElement().getIdPart()).containsExactly(patient);
    }

    @Test
    void theSsnSystemInAnySpellingIsRefusedWithoutViewSsnAndMaskedOnRead() {
        for (String system : List.of("HTTP://HL7.ORG/FHIR/SID/US-SSN", SSN_SYSTEM + "/", "https://hl7.org/fhir/sid/us-ssn",
                "urn:oid:2.16.840.1.113883.4.1", "2.16.840.1.113883.4.1", "URN:OID:2.16.840.1.113883.4.1")) {
            HttpResponse<String> response = get(frontDesk, "Patient?identifier=" + enc(system + "|X" + Fakes.digits(3)));
            assertRefused(response, "ssn-search-needs-view-ssn");
        }
        // the same spellings, stored, are masked on read: the one rule decides both
        Patient odd = new Patient();
        odd.addIdentifier().setSystem("HTTP://HL7.ORG/FHIR/SID/US-SSN/").setValue(ssn);
        String patient = create(odd);
        HttpResponse<String> read = get(frontDesk, "Patient/" + patient);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.body()).doesNotContain(ssn).contains("***-**-" + ssn.substring(7));
    }

    @Test
    void anSsnShapedValueWithoutASystemIsRefusedWithoutViewSsnAndServedWithIt() {
        Patient withSsn = new Patient();
        withSsn.addIdentifier().setSystem(SSN_SYSTEM).setValue(ssn);
        String patient = create(withSsn);

        HttpResponse<String> refused = get(frontDesk, "Patient?identifier=" + enc(ssn));
        assertRefused(refused, "ssn-search-needs-view-ssn");
        assertThat(refused.body()).doesNotContain(ssn);

        Bundle found = search(token(), "Patient?identifier=" + enc(ssn));
        assertThat(found.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart()).containsExactly(patient);
    }

    @Test
    void noBundleLinkOfASearchCarriesTheSearchedSsnNotEvenForACallerWithViewSsn() {
        Patient withSsn = new Patient();
        withSsn.addIdentifier().setSystem(SSN_SYSTEM).setValue(ssn);
        String first = create(withSsn);
        String second = create(withSsn);
        List<String> echoes = List.of(ssn, ssn.replace("-", ""), enc(ssn), enc(SSN_SYSTEM + "|" + ssn));

        HttpResponse<String> byGet = get(token(), "Patient?identifier=" + enc(SSN_SYSTEM + "|" + ssn));
        HttpResponse<String> paged = get(token(), "Patient?identifier=" + enc(SSN_SYSTEM + "|" + ssn) + "&_count=1");
        HttpResponse<String> byPost = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient/_search"))
                .header("Authorization", "Bearer " + token())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("identifier=" + enc(SSN_SYSTEM + "|" + ssn))));
        HttpResponse<String> byName = get(token(), "Patient?family=" + enc(ssn));
        for (HttpResponse<String> response : List.of(byGet, paged, byPost, byName)) {
            assertThat(response.statusCode()).isEqualTo(200);
            Bundle bundle = fhir.newJsonParser().parseResource(Bundle.class, response.body());
            assertThat(bundle.getLink()).isNotEmpty();
            for (Bundle.BundleLinkComponent link : bundle.getLink()) {
                for (String echo : echoes) {
                    assertThat(link.getUrl()).as(link.getRelation()).doesNotContain(echo);
                }
            }
            assertThat(bundle.getLink(Bundle.LINK_SELF).getUrl()).contains("_getpages=");
        }

        // the opaque self link is a working link to the same results, and so is each page
        Bundle all = fhir.newJsonParser().parseResource(Bundle.class, byGet.body());
        assertThat(ids(all)).containsExactlyInAnyOrder(first, second);
        Bundle again = follow(all.getLink(Bundle.LINK_SELF).getUrl());
        assertThat(ids(again)).containsExactlyInAnyOrder(first, second);
        Bundle next = follow(fhir.newJsonParser().parseResource(Bundle.class, paged.body()).getLink(Bundle.LINK_NEXT).getUrl());
        assertThat(next.getEntry()).hasSize(1);
        for (Bundle.BundleLinkComponent link : next.getLink()) {
            assertThat(link.getUrl()).doesNotContain(ssn).doesNotContain(ssn.replace("-", ""));
        }
    }

    private Bundle follow(String link) {
        assertThat(link).startsWith(fhirBase());
        HttpResponse<String> response = sendWithoutToken(HttpRequest.newBuilder(URI.create(link))
                .header("Authorization", "Bearer " + token()).GET());
        assertThat(response.statusCode()).isEqualTo(200);
        return fhir.newJsonParser().parseResource(Bundle.class, response.body());
    }

    private static List<String> ids(Bundle bundle) {
        return bundle.getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart()).toList();
    }

    private static Patient typedSs(String value) {
        Patient patient = new Patient();
        patient.addIdentifier().setSystem(CUSTOM).setValue(value).getType().addCoding()
                .setSystem("http://terminology.hl7.org/CodeSystem/v2-0203").setCode("SS");
        patient.addName().setFamily("Typed" + Fakes.letters(8));
        return patient;
    }

    private String create(Patient patient) {
        HttpResponse<String> created = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Authorization", "Bearer " + token())
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(fhir.newJsonParser().encodeResourceToString(patient))));
        assertThat(created.statusCode()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
    }

    private Bundle search(String token, String query) {
        HttpResponse<String> response = get(token, query);
        assertThat(response.statusCode()).as(query).isEqualTo(200);
        return fhir.newJsonParser().parseResource(Bundle.class, response.body());
    }

    private HttpResponse<String> get(String token, String path) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/" + path)).header("Authorization", "Bearer " + token).GET());
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
