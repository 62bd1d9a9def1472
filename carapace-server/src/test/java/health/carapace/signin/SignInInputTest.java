package health.carapace.signin;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestInstallation;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * Sign-in fields that no person types (control characters, NUL, over-long values) are refused
 * before they reach any lookup, with the same page and message as a wrong password: no exception,
 * no API error, and nothing of the value in the response or the log.
 */
@ExtendWith(OutputCaptureExtension.class)
class SignInInputTest extends IntegrationTest {

    private SignInBrowser browser;
    private String canary;

    @BeforeEach
    void setUp() {
        browser = new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
        canary = "Qzsignin" + UUID.randomUUID().toString().replace("-", "");
    }

    @Test
    void aNulInTheUserNameGetsTheUniformSignInError(CapturedOutput output) {
        assertUniformRefusal(browser.submitPassword("a\u0000" + canary, "some password"), output);
    }

    @Test
    void controlCharactersInTheUserNameGetTheUniformSignInError(CapturedOutput output) {
        assertUniformRefusal(browser.submitPassword(canary + "\r\n\u001b[31m", "some password"), output);
        assertUniformRefusal(browser.submitPassword(canary + "\u0085", "some password"), output);
    }

    @Test
    void aNulInThePasswordGetsTheUniformSignInError(CapturedOutput output) {
        assertUniformRefusal(browser.submitPassword("nobody-" + canary.substring(0, 8), canary + "\u0000"), output);
    }

    @Test
    void anOverLongUserNameGetsTheUniformSignInError(CapturedOutput output) {
        assertUniformRefusal(browser.submitPassword(canary + "n".repeat(20_000), "some password"), output);
    }

    @Test
    void anOverLongPasswordGetsTheUniformSignInError(CapturedOutput output) {
        assertUniformRefusal(browser.submitPassword("nobody-" + canary.substring(0, 8), canary + "p".repeat(20_000)),
                output);
    }

    @Test
    void aNulInAnyOtherSignInFieldGetsTheUniformSignInError(CapturedOutput output) {
        HttpResponse<String> page = browser.get(baseUrl() + "/login");
        HttpResponse<String> response = browser.post(baseUrl() + "/login", Map.of("username", "nobody",
                "password", "some password", "_csrf", SignInBrowser.csrf(page.body()), "extra" + canary, canary + "\u0000"));
        assertUniformRefusal(response, output);
    }

    @Test
    void aNulInTheEnrolmentTokenGetsTheInvalidLinkPage(CapturedOutput output) {
        HttpResponse<String> response = browser.get(baseUrl() + "/login/enrol?token="
                + URLEncoder.encode(canary + "\u0000", StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.body()).contains("This enrolment link is not valid").doesNotContain(canary);
        assertSignInPage(response);
        assertNotLogged(output);
    }

    @Test
    void aNulInTheAuthenticatorCodeGetsTheSignInPageNotAnError(CapturedOutput output) {
        HttpResponse<String> page = browser.get(baseUrl() + "/login");
        HttpResponse<String> response = browser.post(baseUrl() + "/login/mfa", Map.of("code", "12\u00003" + canary,
                "_csrf", SignInBrowser.csrf(page.body())));
        // Without a password step there is nothing to check a code against: back to the start.
        assertThat(response.statusCode()).isIn(200, 303);
        assertThat(response.body()).doesNotContain(canary).doesNotContain("OperationOutcome");
        assertNotLogged(output);
    }

    private void assertUniformRefusal(HttpResponse<String> response, CapturedOutput output) {
        assertThat(response.statusCode()).as("status; body: %s", response.body()).isEqualTo(200);
        assertThat(response.body()).contains("Sign-in failed. Check your user name and password, or try again later.")
                .doesNotContain(canary).doesNotContain("OperationOutcome");
        assertSignInPage(response);
        assertNotLogged(output);
    }

    private void assertSignInPage(HttpResponse<String> response) {
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        // the sign-in pages' own policy: styles from the shared stylesheet only (no inline style since issue #20)
        assertThat(response.headers().firstValue("Content-Security-Policy").orElse("")).contains("style-src 'self'")
                .doesNotContain("unsafe");
    }

    private void assertNotLogged(CapturedOutput output) {
        assertThat(output.getAll()).as("log output").doesNotContain(canary)
                .doesNotContain("DataIntegrityViolationException").doesNotContain("PSQLException");
    }
}
