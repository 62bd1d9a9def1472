package health.carapace.console;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.Users;
import health.carapace.testing.SignInBrowser;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * A person using the console with a plain HTTP client (cookie jar, no redirect followed by
 * itself), so that every hop of the console's sign-in is seen: the console's redirect to the
 * authorization endpoint, the sign-in pages (password, TOTP), the code back to the console's
 * callback, the console's session cookie. The person's TOTP secret comes from a first sign-in
 * through the start-dev app, as {@link SignInBrowser} does it.
 */
final class ConsoleVisitor {

    static final String PASSWORD = "console-visitor-password-1";
    private static final Pattern FORM_CSRF = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"");
    private static final Pattern META_CSRF = Pattern.compile("<meta name=\"cp-csrf\" content=\"([^\"]+)\"");

    final SignInBrowser browser;
    final String user;

    private ConsoleVisitor(SignInBrowser browser, String user) {
        this.browser = browser;
        this.user = user;
    }

    /** A new account holding {@code roles}, enrolled (password and TOTP), not yet signed in to the console. */
    static ConsoleVisitor enrolled(Users users, String base, SSLContext tls, String... roles) {
        String user = "console-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(user, Set.of(roles), null);
        SignInBrowser browser = new SignInBrowser(base, tls);
        SignInBrowser.Tokens enrolled = browser.firstSignIn(enrolment.link(), user, PASSWORD);
        // the enrolment's own sign-in (through the start-dev app) ends here: the console's is the person's only session
        assertThat(browser.revoke(enrolled.refreshToken()).statusCode()).isEqualTo(200);
        browser.newBrowser();
        return new ConsoleVisitor(browser, user);
    }

    /** Opens the console and signs in (password and TOTP) as the console's redirect asks; returns the dashboard's response. */
    HttpResponse<String> signIn() {
        return signIn("/console");
    }

    /** As {@link #signIn()}, starting from {@code startPath}; returns the page the console returns to. */
    HttpResponse<String> signIn(String startPath) {
        HttpResponse<String> toAuthorize = get(startPath);
        assertThat(toAuthorize.statusCode()).as("the console sends a visitor without a session to sign in").isEqualTo(302);
        String authorize = SignInBrowser.location(toAuthorize);
        assertThat(authorize).startsWith(browser.base + "/oauth2/authorize?")
                .contains("client_id=" + ConsoleApp.CLIENT_ID).contains("code_challenge_method=S256");
        HttpResponse<String> toLogin = browser.get(authorize);
        assertThat(toLogin.statusCode()).isEqualTo(302);
        HttpResponse<String> afterPassword = browser.submitPassword(user, PASSWORD);
        assertThat(SignInBrowser.location(afterPassword)).endsWith("/login/mfa");
        HttpResponse<String> afterCode = browser.submitMfaCode(browser.nextCode(browser.secret));
        assertThat(afterCode.statusCode()).isEqualTo(303);
        HttpResponse<String> toCallback = browser.get(absolute(SignInBrowser.location(afterCode)));
        assertThat(toCallback.statusCode()).isEqualTo(302);
        String callback = SignInBrowser.location(toCallback);
        assertThat(callback).startsWith(browser.base + ConsoleApp.CALLBACK + "?");
        HttpResponse<String> toConsole = carriedOnCallback == null ? browser.get(callback)
                : browser.send(HttpRequest.newBuilder(URI.create(callback)).header("Cookie", carriedOnCallback).GET());
        assertThat(toConsole.statusCode()).as("callback: %s", toConsole.body()).isEqualTo(302);
        lastCallback = toConsole;
        String location = SignInBrowser.location(toConsole);
        returnedTo = location.startsWith(browser.base) ? location.substring(browser.base.length()) : location;
        return get(returnedTo);
    }

    /**
     * A cookie this browser also holds when the sign-in comes back to the callback (another
     * person's console session left in the same browser), or null.
     */
    String carriedOnCallback;

    /** Where the console sent the browser after the callback. */
    String returnedTo;

    /** The callback's response (it sets the session cookie). */
    HttpResponse<String> lastCallback;

    HttpResponse<String> get(String pathOrUrl) {
        return browser.get(absolute(pathOrUrl));
    }

    /** A page opened from a link or redirect on another site, as a browser marks it (Fetch Metadata). */
    HttpResponse<String> getFromAnotherSite(String path) {
        return browser.send(HttpRequest.newBuilder(URI.create(absolute(path))).header("Sec-Fetch-Site", "cross-site").GET());
    }

    HttpResponse<String> getHtmx(String path) {
        return browser.send(HttpRequest.newBuilder(URI.create(absolute(path))).header("HX-Request", "true").GET());
    }

    /** Posts a form with the CSRF token of the page at {@code formPage}. */
    HttpResponse<String> postFrom(String formPage, String action, Map<String, String> fields) {
        HttpResponse<String> page = get(formPage);
        assertThat(page.statusCode()).as("form page %s", formPage).isEqualTo(200);
        Map<String, String> all = new LinkedHashMap<>(fields);
        all.put("_csrf", formCsrf(page.body()));
        return post(action, all);
    }

    HttpResponse<String> post(String path, Map<String, String> fields) {
        return browser.post(absolute(path), fields);
    }

    static String formCsrf(String html) {
        Matcher m = FORM_CSRF.matcher(html);
        assertThat(m.find()).as("a form with a CSRF token").isTrue();
        return m.group(1);
    }

    static String metaCsrf(String html) {
        Matcher m = META_CSRF.matcher(html);
        assertThat(m.find()).as("the page's CSRF meta tag").isTrue();
        return m.group(1);
    }

    String absolute(String pathOrUrl) {
        return pathOrUrl.startsWith("https://") ? pathOrUrl : browser.base + pathOrUrl;
    }
}
