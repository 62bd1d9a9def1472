package health.carapace.console;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.Users;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The Users page lists accounts 10 a page in name order, found by the start of their name, and
 * continues after the last name shown: every account is reached exactly once, in order. A name or
 * position that is not a user name's characters is refused with 400 and not echoed.
 */
class ConsoleUserPagesTest extends ConsoleTesting {

    private static final Pattern ROW = Pattern.compile("<tr>\\s*<td>([^<]+)</td>");
    private static final Pattern NEXT = Pattern.compile("id=\"next-users\" href=\"([^\"]+)\"");

    @Autowired
    private Users users;

    @Test
    void accountsComeTenAPageInNameOrderAndEachExactlyOnce() {
        String prefix = "pg" + UUID.randomUUID().toString().substring(0, 8);
        List<String> made = new ArrayList<>();
        for (int i = 0; i < 31; i++) {
            // mixed case: the order and the search are case-insensitive, as the names' unique index is
            String name = (i % 2 == 0 ? prefix : prefix.toUpperCase()) + String.format("-%02d", i);
            users.create(name, Set.of(TestPolicy.CLINICIAN), null);
            made.add(name);
        }
        ConsoleVisitor admin = signedIn("admin");

        List<String> seen = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        String page = "/console/users?name=" + prefix.toUpperCase();
        while (page != null) {
            HttpResponse<String> answer = admin.get(page);
            assertThat(answer.statusCode()).isEqualTo(200);
            List<String> rows = rows(answer.body());
            sizes.add(rows.size());
            seen.addAll(rows);
            if (sizes.size() > 1) {
                assertThat(answer.body()).contains("More people who sign in");
            }
            Matcher next = NEXT.matcher(answer.body());
            page = next.find() ? next.group(1).replace("&amp;", "&") : null;
        }
        assertThat(sizes).containsExactly(10, 10, 10, 1);
        assertThat(seen).containsExactlyElementsOf(made);

        assertThat(admin.get("/console/users?name=" + prefix + "-3").body()).doesNotContain("id=\"next-users\"");
        assertThat(rows(admin.get("/console/users?name=" + prefix + "-3").body()))
                .containsExactlyElementsOf(made.subList(30, 31));
        assertThat(admin.get("/console/users?name=" + prefix + "zz").body()).contains("No account matches.");
    }

    @Test
    void aNameOrPositionThatIsNotAUserNameIsRefusedWithoutEcho() {
        ConsoleVisitor admin = signedIn("admin");
        for (String query : new String[] {"name=zq%3Cscript%3Ecanary", "after=zq%20canary", "name=" + "zqcanary".repeat(9),
                "after=zq-canary&after=zq-canary-2", "name=zq-canary&name=zq-canary", "after=%E2%80%AEzqcanary"}) {
            HttpResponse<String> refused = admin.get("/console/users?" + query);
            assertThat(refused.statusCode()).as(query).isEqualTo(400);
            // every canary holds "canary"; a two-letter check ("zq") failed once on a random CSRF token
            assertThat(refused.body()).as(query).doesNotContain("canary").doesNotContain("script>");
        }
    }

    /** The layout's header once per page (a fragment named like an element selected every header of the layout). */
    @Test
    void eachPageHasOneHeader() {
        ConsoleVisitor admin = signedIn("admin");
        for (String page : List.of("/console", "/console/users", "/console/audit", "/console/incidents", "/console/keys")) {
            String body = admin.get(page).body();
            assertThat(body.split("class=\"cp-header\"", -1)).as(page).hasSize(2);
            assertThat(body.split("<header", -1)).as(page).hasSize(2);
        }
    }

    private static List<String> rows(String html) {
        int start = html.indexOf("id=\"users-table\"");
        if (start < 0) {
            return List.of();
        }
        String table = html.substring(start, html.indexOf("</table>", start));
        List<String> names = new ArrayList<>();
        Matcher row = ROW.matcher(table);
        while (row.find()) {
            names.add(row.group(1));
        }
        return names;
    }
}
