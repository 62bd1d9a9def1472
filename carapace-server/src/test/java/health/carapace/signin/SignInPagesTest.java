package health.carapace.signin;

import static health.carapace.testing.SignInBrowser.location;
import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.audit.AuditContext;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.SmartAppBrowser;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The sign-in pages' one face, over HTTP: every page (sign-in, enrolment link, TOTP set-up, TOTP,
 * consent) under the exact strict CSP, with no inline style or script and no style attribute,
 * labelled controls with the right autocomplete, the product's name and the asking app's display
 * name; the shared stylesheet cached long under a content-versioned URL; refusals that read the
 * same whether or not the account exists; nothing typed echoed; an app's name escaped.
 */
class SignInPagesTest extends IntegrationTest {

    static final String CSP = "default-src 'none'; style-src 'self'; img-src 'none'; frame-ancestors 'none'; "
            + "base-uri 'none'";
    private static final String PASSWORD = "a passphrase for the face";
    private static final Pattern INPUT = Pattern.compile("<input ([^>]*)>");
    private static final Pattern ATTRIBUTE = Pattern.compile("([a-z-]+)=\"([^\"]*)\"");

    @Autowired
    private Users users;

    @Autowired
    private SmartApps apps;

    private SignInBrowser browser() {
        return new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
    }

    @Test
    void everySignInPageHasTheOneFaceUnderTheStrictCsp() {
        String appName = "Ward rounds " + UUID.randomUUID().toString().substring(0, 6);
        String clientId = apps.create(appName, List.of("http://127.0.0.1/callback"),
                List.of("openid", "fhirUser", "user/Patient.rs", "user/Observation.rs"), false, null, "test-admin",
                AuditContext.none()).clientId();
        String user = "face-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(user, Set.of(TestPolicy.CLINICIAN), null);
        SmartAppBrowser app = new SmartAppBrowser(browser(), clientId);
        Map<String, HttpResponse<String>> pages = new LinkedHashMap<>();

        pages.put("enrol", app.browser.get(app.browser.local(enrolment.link())));
        assertThat(app.browser.setPassword(enrolment.link(), PASSWORD).statusCode()).isEqualTo(200);
        assertThat(app.authorize("openid fhirUser user/Patient.rs user/Observation.rs", Map.of()).statusCode())
                .isEqualTo(302);
        pages.put("login", app.browser.get(baseUrl() + "/login"));
        assertThat(location(app.browser.submitPassword(user, PASSWORD))).endsWith("/login/totp");
        pages.put("totp", app.browser.get(baseUrl() + "/login/totp"));
        app.browser.secret = app.browser.enrolmentSecret();
        HttpResponse<String> afterTotp = app.browser.submitEnrolmentCode(app.browser.nextCode(app.browser.secret));
        assertThat(location(afterTotp)).isEqualTo("/login/consent");
        pages.put("consent", app.consentPage());
        // a later sign-in of the same person asks for the code (the MFA page)
        SmartAppBrowser again = new SmartAppBrowser(browser(), clientId);
        assertThat(again.authorize("openid user/Patient.rs", Map.of()).statusCode()).isEqualTo(302);
        assertThat(location(again.browser.submitPassword(user, PASSWORD))).endsWith("/login/mfa");
        pages.put("mfa", again.browser.get(baseUrl() + "/login/mfa"));

        List<String> problems = new ArrayList<>();
        pages.forEach((name, page) -> problems.addAll(faceProblems(name, page)));
        assertThat(problems).isEmpty();

        // the app that asks, by its registered display name, on every page of its sign-in
        for (String name : List.of("login", "totp", "mfa", "consent")) {
            assertThat(pages.get(name).body()).as(name).contains("Signing in to <strong>" + appName + "</strong>");
        }
        assertThat(pages.get("enrol").body()).doesNotContain("Signing in to");
        // the consent page names it (not only by its client id) and says what each scope allows, in words
        assertThat(pages.get("consent").body()).contains("<strong>" + appName + "</strong> (" + clientId + ") asks to act")
                .contains("Read, search Patient records of every patient you may see <code>user/Patient.rs</code>")
                .contains("Confirm who you are to the application");
        // autocomplete tells password managers what each field is
        assertThat(pages.get("login").body()).contains("autocomplete=\"username\"").contains("autocomplete=\"current-password\"");
        assertThat(pages.get("totp").body()).contains("autocomplete=\"one-time-code\"");
        assertThat(pages.get("mfa").body()).contains("autocomplete=\"one-time-code\"");
        assertThat(pages.get("enrol").body()).contains("autocomplete=\"new-password\"");
    }

    /** What is wrong with one page's face: headers, inline style or script, unlabelled controls. */
    static List<String> faceProblems(String name, HttpResponse<String> page) {
        List<String> problems = new ArrayList<>();
        String html = page.body();
        if (page.statusCode() != 200) {
            problems.add(name + ": status " + page.statusCode());
        }
        if (!page.headers().allValues("Content-Security-Policy").equals(List.of(CSP))) {
            problems.add(name + ": CSP " + page.headers().allValues("Content-Security-Policy"));
        }
        if (!page.headers().allValues("Cache-Control").equals(List.of("no-store"))) {
            problems.add(name + ": Cache-Control " + page.headers().allValues("Cache-Control"));
        }
        if (!page.headers().firstValue("X-Frame-Options").orElse("").equals("DENY")) {
            problems.add(name + ": may be framed");
        }
        if (!html.startsWith("<!DOCTYPE html><html lang=\"en\">")) {
            problems.add(name + ": no lang");
        }
        for (String inline : List.of("<script", "<style", " style=", "javascript:")) {
            if (html.toLowerCase(java.util.Locale.ROOT).contains(inline)) {
                problems.add(name + ": inline " + inline);
            }
        }
        if (Pattern.compile("\\son[a-z]+=", Pattern.CASE_INSENSITIVE).matcher(html).find()) {
            problems.add(name + ": an inline event handler");
        }
        if (!html.contains("<span class=\"cp-brand\" id=\"product\">Carapace</span>")
                || !html.contains("<link rel=\"stylesheet\" href=\"/assets/carapace.css?v=")) {
            problems.add(name + ": not in the product's face");
        }
        Matcher input = INPUT.matcher(html);
        while (input.find()) {
            Map<String, String> attributes = new LinkedHashMap<>();
            Matcher attribute = ATTRIBUTE.matcher(input.group(1));
            while (attribute.find()) {
                attributes.put(attribute.group(1), attribute.group(2));
            }
            if ("hidden".equals(attributes.get("type"))) {
                continue;
            }
            String id = attributes.get("id");
            if (id == null || !html.contains("<label class=\"cp-label\" for=\"" + id + "\">")
                    && !html.contains("<label for=\"" + id + "\">")) {
                problems.add(name + ": an input without its label: " + input.group());
            }
            if (!"radio".equals(attributes.get("type")) && attributes.get("autocomplete") == null) {
                problems.add(name + ": no autocomplete on " + id);
            }
        }
        return problems;
    }

    @Test
    void theStylesheetIsCachedLongUnderAUrlThatChangesWithItsContent() throws Exception {
        String login = browser().get(baseUrl() + "/login").body();
        Matcher link = Pattern.compile("href=\"(/assets/carapace\\.css\\?v=([0-9a-f]{16}))\"").matcher(login);
        assertThat(link.find()).isTrue();

        HttpResponse<String> css = browser().get(baseUrl() + link.group(1));

        assertThat(css.statusCode()).isEqualTo(200);
        assertThat(css.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/css");
        assertThat(css.headers().allValues("Cache-Control")).containsExactly("max-age=31536000, public");
        assertThat(css.headers().allValues("Content-Security-Policy")).containsExactly("default-src 'none'; frame-ancestors 'none'");
        assertThat(css.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
        assertThat(css.body()).contains(".cp-shell", ".cp-card", ".cp-button", ":focus-visible");
        String version = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(css.body().getBytes(StandardCharsets.UTF_8)), 0, 8);
        assertThat(link.group(2)).isEqualTo(version);
        // the stylesheet is the only file served from there
        assertThat(browser().get(baseUrl() + "/assets/other.css").statusCode()).isIn(401, 403);
    }

    @Test
    void aRefusedSignInReadsTheSameWhetherOrNotTheAccountExists() {
        String known = "known-" + UUID.randomUUID().toString().substring(0, 8);
        SignInBrowser enrolling = browser();
        assertThat(enrolling.setPassword(users.create(known, Set.of(TestPolicy.CLINICIAN), null).link(), PASSWORD)
                .statusCode()).isEqualTo(200);
        String unknown = "nobody-" + UUID.randomUUID().toString().substring(0, 8);
        SignInBrowser first = browser();
        SignInBrowser second = browser();

        String wrongPassword = page(first.submitPassword(known, "not the passphrase at all"));
        String noSuchAccount = page(second.submitPassword(unknown, "not the passphrase at all"));
        // a second failure, checked or refused by the back-off (whichever the machine's speed gives):
        // the same page again (SignInTimeoutsTest moves the clock to prove the back-off and the lock)
        String again = page(first.submitPassword(known, "still not the passphrase"));
        String unknownAgain = page(second.submitPassword(unknown, "still not the passphrase"));

        assertThat(noSuchAccount).isEqualTo(wrongPassword);
        assertThat(again).isEqualTo(wrongPassword);
        assertThat(unknownAgain).isEqualTo(wrongPassword);
        // and the page says clearly what happened and what the lockout rule is
        assertThat(wrongPassword).contains("<div class=\"cp-error\" role=\"alert\">")
                .contains("Sign-in failed. Check your user name and password, or try again later.")
                .contains("after 5 failed attempts in a row it is paused for 15 minutes")
                .doesNotContain(known).doesNotContain(unknown);
    }

    @Test
    void whatIsTypedIsNeverEchoedAndAnAppsNameIsShownEscaped() {
        SignInBrowser visitor = browser();
        String canary = "Canarytyped" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        HttpResponse<String> refused = visitor.submitPassword("<script>window.pwned=1</script>" + canary,
                "<img src=x onerror=alert(1)>" + canary);
        assertThat(refused.statusCode()).isEqualTo(200);
        assertThat(refused.body()).doesNotContain(canary).doesNotContain("pwned").doesNotContain("onerror");

        // the asking app comes from the authorization request the server saved, never from the page's query
        HttpResponse<String> named = visitor.get(baseUrl() + "/login?client_id=" + canary + "&app=%3Cscript%3E");
        assertThat(named.body()).doesNotContain("asking-app").doesNotContain(canary).doesNotContain("<script");

        String hostile = "<img src=x onerror=\"document.title='pwned'\"><script>window.pwned=1</script>Rounds & \"more\"";
        String clientId = apps.create(hostile, List.of("http://127.0.0.1/callback"), List.of("openid", "user/Patient.rs"),
                false, null, "test-admin", AuditContext.none()).clientId();
        SmartAppBrowser app = new SmartAppBrowser(browser(), clientId);
        assertThat(app.authorize("openid user/Patient.rs", Map.of()).statusCode()).isEqualTo(302);
        String login = app.browser.get(baseUrl() + "/login").body();
        assertThat(login).contains("&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;"
                + "&lt;script&gt;window.pwned=1&lt;/script&gt;Rounds &amp; &quot;more&quot;")
                .doesNotContain("<img").doesNotContain("<script");
    }

    /** The page without its per-session CSRF token. */
    private static String page(HttpResponse<String> response) {
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body().replaceAll("name=\"_csrf\" value=\"[^\"]+\"", "");
    }
}
