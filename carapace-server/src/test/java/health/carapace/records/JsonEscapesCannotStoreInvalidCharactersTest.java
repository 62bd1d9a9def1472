package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Strict input (issue 12, finding 8) also covers what JSON escapes spell: a NUL or another control
 * character that FHIR strings forbid, and a lone surrogate, are refused with 400 and nothing is
 * stored. Found in review (after issue 12): {@code "\u0000"} was stored and later served as
 * ill-formed XML; {@code "\ud800"} was stored silently as {@code ?}.
 */
class JsonEscapesCannotStoreInvalidCharactersTest extends IntegrationTest {

    @ParameterizedTest
    @ValueSource(strings = {"\\u0000", "\\u0001", "\\u001b", "\\ud800", "\\udc00x", "\\uffff"})
    void anEscapedCharacterFhirForbidsIsRefusedAndNothingIsStored(String escape) {
        String family = "Escape" + Fakes.letters(10);
        HttpResponse<String> response = post("Patient", "application/fhir+json",
                "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + escape + "\"}]}");

        assertRefusedAndNotStored(response, family);
    }

    @ParameterizedTest
    @ValueSource(strings = {"\\u0000", "\\ud800"})
    void anEscapedCharacterInABundleEntryIsRefusedAndNothingIsStored(String escape) {
        String family = "Escape" + Fakes.letters(10);
        HttpResponse<String> response = post("", "application/fhir+json", "{\"resourceType\":\"Bundle\",\"type\":"
                + "\"transaction\",\"entry\":[{\"resource\":{\"resourceType\":\"Patient\",\"name\":[{\"family\":\""
                + family + escape + "\"}]},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}");

        assertRefusedAndNotStored(response, family);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.0", "1.1"})
    void aCharacterReferenceToAControlCharacterInXmlIsRefusedAndNothingIsStored(String xmlVersion) {
        // XML 1.0 forbids &#1; outright; XML 1.1 allows it, FHIR does not
        String family = "Escape" + Fakes.letters(10);
        HttpResponse<String> response = post("Patient", "application/fhir+xml", "<?xml version=\"" + xmlVersion
                + "\"?><Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"" + family
                + "&#1;\"/></name></Patient>");

        assertRefusedAndNotStored(response, family);
    }

    private HttpResponse<String> post(String path, String contentType, String body) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/" + path))
                .header("Authorization", "Bearer " + token()).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private void assertRefusedAndNotStored(HttpResponse<String> response, String family) {
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("OperationOutcome").doesNotContain(family);
        HttpResponse<String> search = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient?family="
                + URLEncoder.encode(family, StandardCharsets.UTF_8))).header("Authorization", "Bearer " + token()).GET());
        assertThat(search.body()).contains("\"total\":0");
    }
}
