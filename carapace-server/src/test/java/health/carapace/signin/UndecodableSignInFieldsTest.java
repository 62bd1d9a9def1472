package health.carapace.signin;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestInstallation;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * A sign-in form or query that cannot be decoded (invalid percent-encoding, invalid or overlong
 * UTF-8, a surrogate, a charset other than UTF-8) gets the sign-in page's uniform answer to a
 * bad field, with a valid CSRF token: never a 500 and never an API error. Found in review (after
 * issue 12): each of these was a 500 OperationOutcome and an ERROR stack trace.
 */
@ExtendWith(OutputCaptureExtension.class)
class UndecodableSignInFieldsTest extends IntegrationTest {

    private SignInBrowser browser;
    private String canary;

    @BeforeEach
    void setUp() {
        browser = new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
        canary = "Qzundecodable" + UUID.randomUUID().toString().replace("-", "");
    }

    @ParameterizedTest
    @ValueSource(strings = {"%G0", "%", "%C3%28", "%C0%AF", "%ED%A0%80", "%E9"})
    void anUndecodableUserNameGetsTheUniformSignInError(String bad, CapturedOutput output) {
        assertUniformRefusal(postLogin("application/x-www-form-urlencoded",
                "username=" + canary + bad + "&password=some+password"), output);
    }

    @ParameterizedTest
    @ValueSource(strings = {"application/x-www-form-urlencoded; charset=ISO-8859-1",
            "application/x-www-form-urlencoded; charset=zz"})
    void aFormInAForeignCharsetGetsTheUniformSignInError(String contentType, CapturedOutput output) {
        assertUniformRefusal(postLogin(contentType, "username=" + canary + "&password=some+password"), output);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/login?x=%C3%28", "/login?x=%ED%A0%80", "/login/mfa?x=%C0%AF"})
    void anUndecodableQueryOnASignInPageIsNotAnApiError(String path, CapturedOutput output) {
        HttpResponse<String> response = browser.get(baseUrl() + path.replace("x=", canary + "="));
        assertThat(response.statusCode()).isIn(200, 303);
        assertThat(response.body()).doesNotContain(canary).doesNotContain("OperationOutcome");
        assertThat(output.getAll()).doesNotContain(canary).doesNotContain("InvalidParameterException");
    }

    private HttpResponse<String> postLogin(String contentType, String formWithoutCsrf) {
        HttpResponse<String> page = browser.get(baseUrl() + "/login");
        assertThat(page.statusCode()).isEqualTo(200);
        String body = "_csrf=" + SignInBrowser.csrf(page.body()) + "&" + formWithoutCsrf;
        return browser.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/login")).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private void assertUniformRefusal(HttpResponse<String> response, CapturedOutput output) {
        assertThat(response.statusCode()).as("status; body: %s", response.body()).isEqualTo(200);
        assertThat(response.body()).contains("Sign-in failed. Check your user name and password, or try again later.")
                .doesNotContain(canary).doesNotContain("OperationOutcome");
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        assertThat(output.getAll()).doesNotContain(canary).doesNotContain("InvalidParameterException")
                .doesNotContain("A request failed with an unhandled exception");
    }
}
