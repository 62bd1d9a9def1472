package health.carapace.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The incidents list continues by a position only the page's own link gives: a well-formed one is
 * a page, anything else (text, script, an out-of-range number, a second value) is refused with 400
 * and nothing of it is echoed.
 */
class ConsoleIncidentListPagesTest extends ConsoleTesting {

    @Test
    void aPagesPositionIsTheLinksOwnAndAnythingElseIsRefusedWithoutEcho() {
        ConsoleVisitor officer = signedIn("admin");
        String first = officer.get("/console/incidents").body();
        assertThat(first).contains("Incidents");

        HttpResponse<String> next = officer.get("/console/incidents?state=open&after=1796461500427949_" + UUID.randomUUID());
        assertThat(next.statusCode()).isEqualTo(200);
        assertThat(next.body()).containsAnyOf("Older incidents, newest first", "No incident matches.");

        for (String after : new String[] {"zq-canary-after", "%3Cscript%3Ezqcanary%3C%2Fscript%3E",
                "99999999999999999999_" + UUID.randomUUID(), "1796461500427949_not-a-uuid-zqcanary",
                "1796461500427949_" + UUID.randomUUID() + "&after=1_" + UUID.randomUUID()}) {
            HttpResponse<String> refused = officer.get("/console/incidents?after=" + after);
            assertThat(refused.statusCode()).as(after).isEqualTo(400);
            // every canary holds "canary"; a two-letter check ("zq") failed once on a random CSRF token
            assertThat(refused.body()).as(after).doesNotContain("canary").doesNotContain("script>");
        }
    }
}
