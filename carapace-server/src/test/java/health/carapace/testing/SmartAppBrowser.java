package health.carapace.testing;

import static health.carapace.testing.SignInBrowser.location;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.util.JSONObjectUtils;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;

/**
 * A SMART app and the person's browser, as far as a launch needs them: the authorization request
 * (scopes, {@code aud}, PKCE S256, optional EHR {@code launch}), the sign-in pages (through
 * {@link SignInBrowser}), the consent page with its patient picker, and the code exchange. Every
 * hop is seen and checked; nothing follows a redirect by itself.
 */
public final class SmartAppBrowser {

    public final SignInBrowser browser;
    public final String clientId;
    public final String fhirBase;
    public String verifier;
    public String state;

    public SmartAppBrowser(String base, SSLContext tls, String clientId) {
        this(new SignInBrowser(base, tls), clientId);
    }

    /** The app in a browser that already signed in elsewhere (its TOTP secret and last used step go on). */
    public SmartAppBrowser(SignInBrowser browser, String clientId) {
        this.browser = browser;
        this.clientId = clientId;
        this.fhirBase = browser.base + "/fhir";
    }

    /** The authorization request with S256 PKCE and aud; {@code extra} overrides or adds parameters (null value: left out). */
    public HttpResponse<String> authorize(String scope, Map<String, String> extra) {
        verifier = SignInBrowser.randomText();
        state = SignInBrowser.randomText();
        Map<String, String> query = new LinkedHashMap<>();
        query.put("response_type", "code");
        query.put("client_id", clientId);
        query.put("redirect_uri", browser.redirectUri);
        query.put("scope", scope);
        query.put("state", state);
        query.put("aud", fhirBase);
        query.put("code_challenge", SignInBrowser.s256(verifier));
        query.put("code_challenge_method", "S256");
        query.putAll(extra);
        query.values().removeIf(v -> v == null);
        return browser.get(browser.base + "/oauth2/authorize?" + SignInBrowser.form(query));
    }

    /** A first sign-in (enrolment link, password, TOTP enrolment) after {@link #authorize}: the response after TOTP. */
    public HttpResponse<String> firstSignIn(String link, String user, String password) {
        assertThat(browser.setPassword(link, password).statusCode()).isEqualTo(200);
        return signInAfterPassword(user, password);
    }

    /** Password and TOTP enrolment or code, for an authorization request already made. */
    public HttpResponse<String> signInAfterPassword(String user, String password) {
        HttpResponse<String> afterPassword = browser.submitPassword(user, password);
        assertThat(afterPassword.statusCode()).isEqualTo(303);
        if (location(afterPassword).endsWith("/login/totp")) {
            browser.secret = browser.enrolmentSecret();
            return browser.submitEnrolmentCode(browser.nextCode(browser.secret));
        }
        return browser.submitMfaCode(browser.nextCode(browser.secret));
    }

    public HttpResponse<String> consentPage() {
        return browser.get(browser.base + "/login/consent");
    }

    /** Submits the consent form of the page just fetched. */
    public HttpResponse<String> consent(String page, Map<String, String> fields) {
        Map<String, String> body = new LinkedHashMap<>(fields);
        body.put("_csrf", SignInBrowser.csrf(page));
        return browser.post(browser.base + "/login/consent", body);
    }

    /** Follows a redirect to the authorization endpoint and returns the app's callback query. */
    public Map<String, String> followToCallback(HttpResponse<String> toAuthorize) {
        assertThat(toAuthorize.statusCode()).as("to the authorization endpoint: %s", toAuthorize.body()).isEqualTo(303);
        HttpResponse<String> toApp = browser.get(location(toAuthorize));
        assertThat(toApp.statusCode()).isEqualTo(302);
        return callback(toApp);
    }

    /** The query of a redirect to the app's redirect URI (checked to be exactly it). */
    public Map<String, String> callback(HttpResponse<String> redirect) {
        URI callback = URI.create(location(redirect));
        assertThat(callback.getScheme() + "://" + callback.getAuthority() + callback.getPath()).isEqualTo(browser.redirectUri);
        return SignInBrowser.query(callback);
    }

    public HttpResponse<String> exchange(String code) {
        return browser.post(browser.base + "/oauth2/token", Map.of("grant_type", "authorization_code", "code", code,
                "redirect_uri", browser.redirectUri, "client_id", clientId, "code_verifier", verifier));
    }

    public static Map<String, Object> json(HttpResponse<String> response) {
        try {
            return JSONObjectUtils.parse(response.body());
        } catch (java.text.ParseException e) {
            throw new AssertionError(response.body(), e);
        }
    }
}
