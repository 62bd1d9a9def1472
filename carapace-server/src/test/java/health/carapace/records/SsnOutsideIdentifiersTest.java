package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.hl7.fhir.r4.model.Coverage;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.junit.jupiter.api.Test;

/**
 * SSNs outside an Identifier (review F7): a Coverage's subscriberId and a QuestionnaireResponse's
 * string answers are masked for a caller without view:ssn like SSN identifiers, restored when the
 * masked view is written back, and neither changed nor replaced by a mask by such a caller.
 */
class SsnOutsideIdentifiersTest extends IntegrationTest {

    private final String last4 = Fakes.digits(4);
    private final String ssn = "9" + Fakes.digits(2) + "-" + Fakes.digits(2) + "-" + last4;

    @Test
    void aSubscriberIdAndAnAnswerHoldingAnSsnAreMaskedAndKept() {
        String frontDesk = tokenWithRoles("ssn-strings-front-desk", "records-service");
        String patient = create("Patient", "{\"resourceType\":\"Patient\",\"active\":true}");
        String coverage = create("Coverage", "{\"resourceType\":\"Coverage\",\"status\":\"active\",\"subscriberId\":\""
                + ssn + "\",\"beneficiary\":{\"reference\":\"Patient/" + patient + "\"},\"payor\":[{\"display\":\"x\"}]}");
        String answers = create("QuestionnaireResponse", "{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"completed\","
                + "\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"item\":[{\"linkId\":\"ssn\",\"answer\":["
                + "{\"valueString\":\"mine is " + ssn + "\"}]},{\"linkId\":\"name\",\"answer\":[{\"valueString\":\"Ola\"}]}]}");

        HttpResponse<String> coverageRead = get(frontDesk, "Coverage/" + coverage);
        HttpResponse<String> answersRead = get(frontDesk, "QuestionnaireResponse/" + answers);
        HttpResponse<String> searched = get(frontDesk, "QuestionnaireResponse?patient=" + patient);
        for (HttpResponse<String> response : java.util.List.of(coverageRead, answersRead, searched)) {
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).doesNotContain(ssn).contains("***-**-" + last4);
        }
        assertThat(get(token(), "Coverage/" + coverage).body()).contains(ssn);

        // the masked view written back keeps the SSN
        Coverage seen = fhir.newJsonParser().parseResource(Coverage.class, coverageRead.body());
        seen.setStatus(Coverage.CoverageStatus.CANCELLED);
        assertThat(put(frontDesk, "Coverage/" + coverage, fhir.newJsonParser().encodeResourceToString(seen)).statusCode())
                .isEqualTo(200);
        Coverage stored = fhir.newJsonParser().parseResource(Coverage.class, get(token(), "Coverage/" + coverage).body());
        assertThat(stored.getSubscriberId()).isEqualTo(ssn);
        assertThat(stored.getStatus()).isEqualTo(Coverage.CoverageStatus.CANCELLED);

        // changing it, or storing a mask where there is no SSN, is refused
        seen.setSubscriberId("M-" + last4);
        AccessEnforcementTest.assertRefused(put(frontDesk, "Coverage/" + coverage,
                fhir.newJsonParser().encodeResourceToString(seen)), "ssn-change-needs-view-ssn");
        QuestionnaireResponse form = fhir.newJsonParser().parseResource(QuestionnaireResponse.class, answersRead.body());
        form.getItem().get(1).getAnswerFirstRep().setValue(new org.hl7.fhir.r4.model.StringType("***-**-" + last4));
        AccessEnforcementTest.assertRefused(put(frontDesk, "QuestionnaireResponse/" + answers,
                fhir.newJsonParser().encodeResourceToString(form)), "masked-ssn-cannot-be-stored");
        assertThat(get(token(), "QuestionnaireResponse/" + answers).body()).contains(ssn).contains("Ola");
    }

    // --- helpers

    private String create(String type, String json) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir/" + type))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(json)));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(response.body()).getIdElement().getIdPart();
    }

    private HttpResponse<String> get(String token, String path) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/" + path)).header("Authorization", "Bearer " + token).GET());
    }

    private HttpResponse<String> put(String token, String path, String json) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/" + path)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/fhir+json").PUT(HttpRequest.BodyPublishers.ofString(json)));
    }
}
