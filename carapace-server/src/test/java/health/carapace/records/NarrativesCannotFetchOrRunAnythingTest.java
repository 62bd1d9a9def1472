package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A narrative is HTML that other people's clients render, so every write is held to FHIR's
 * narrative rules (txt-1, txt-2) and more: nothing that runs, and nothing fetched from or linked
 * to another host (an image URL is fetched without a click, carrying whatever its query holds).
 * Found in review (after issue 12): {@code <img src="https://evil.example/...">} was stored, and
 * served to every reader. Refused with 400, nothing stored, nothing echoed; for every caller.
 */
class NarrativesCannotFetchOrRunAnythingTest extends IntegrationTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "<img src=\"https://evil.example/x.png\"/>",
            "<img src=\" //evil.example/x.png\"/>",
            "<img src=\"data:image/svg+xml;base64,PHN2Zy8+\"/>",
            "<a href=\"https://evil.example/\">chart</a>",
            "<a href=\"java&#9;script:alert(1)\">chart</a>",
            "<a href=\"\\\\evil.example\\x\">chart</a>",
            "<span onclick=\"alert(1)\">x</span>",
            "<span style=\"background:url(https://evil.example/x)\">x</span>",
            "<span style=\"background:u\\72l(https://evil.example/x)\">x</span>",
            "<script>alert(1)</script>",
            "<iframe src=\"https://evil.example/\"></iframe>",
            "<blockquote cite=\"https://evil.example/\">x</blockquote>",
            "   "})
    void aNarrativeThatFetchesRunsOrLinksElsewhereIsRefusedAndNothingIsStored(String content) {
        String family = "Narrative" + Fakes.letters(10);
        HttpResponse<String> response = post(family, "<div xmlns=\"http://www.w3.org/1999/xhtml\">" + content + "</div>");

        assertThat(response.statusCode()).as(content).isEqualTo(400);
        assertThat(response.body()).contains("OperationOutcome").doesNotContain(family).doesNotContain("evil.example")
                .doesNotContain("alert");
        HttpResponse<String> search = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient?family="
                + URLEncoder.encode(family, StandardCharsets.UTF_8))).header("Authorization", "Bearer " + token()).GET());
        assertThat(search.body()).contains("\"total\":0");
    }

    @Test
    void anOrdinaryNarrativeWithLocalLinksImagesAndTablesIsStored() {
        String family = "Narrative" + Fakes.letters(10);
        HttpResponse<String> response = post(family, "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p style=\"color: red\">"
                + "<b>Name</b> <a href=\"#photo\">photo</a> <a href=\"Patient/123\">record</a></p>"
                + "<table border=\"1\"><tr><td colspan=\"2\">x</td></tr></table><img src=\"#photo\" alt=\"p\"/>"
                + "<img src=\"data:image/png;base64,iVBORw0KGgo=\"/></div>");

        assertThat(response.statusCode()).isEqualTo(201);
    }

    private HttpResponse<String> post(String family, String div) {
        String body = "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\",\"div\":"
                + quoted(div) + "},\"name\":[{\"family\":\"" + family + "\"}]}";
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Authorization", "Bearer " + token()).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private static String quoted(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
