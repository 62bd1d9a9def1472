package health.carapace.signin;

import static health.carapace.testing.SignInBrowser.location;
import static health.carapace.testing.SignInBrowser.tokens;
import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.access.CareRelationships;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.MovableClock;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestPolicy;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestInstallation;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.TestPropertySource;

/**
 * The clocks of sign-in, with short settings, on a server clock the test moves (no sleeping): a session
 * ends after its idle timeout (automatic logoff) and at its maximum lifetime however active,
 * failed sign-ins back off and lock the account,
 * and an enrolment link expires. Its own application context (different settings, the movable
 * clock), same database.
 */
@Import(MovableClock.Installed.class)
@TestPropertySource(properties = {
        "carapace.session.idle-timeout=PT4S",
        "carapace.session.max-lifetime=PT8S",
        "carapace.login.max-failures=3",
        "carapace.login.lockout=PT3S",
        "carapace.login.backoff-base=PT0.3S",
        "carapace.login.enrolment-link-ttl=PT5S"})
class SignInTimeoutsTest extends IntegrationTest {

    private static final String PASSWORD = "another long passphrase";

    @Autowired
    private Users users;

    @Autowired
    private CareRelationships relationships;

    @Autowired
    private DataSource dataSource;

    @Autowired
    private MovableClock clock;

    private String patientPath;
    private SignInBrowser browser;
    private String name;

    @BeforeEach
    void setUp() {
        Patient patient = new Patient();
        patient.addName().setFamily("Timeout" + UUID.randomUUID().toString().replace("-", ""));
        patientPath = "/fhir/Patient/" + fhirClient().create().resource(patient).execute().getId().getIdPart();
        browser = new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()), clock);
        name = "user-" + UUID.randomUUID().toString().substring(0, 8);
        // a clinician reaches only patients in care: assign this one (issue #3 item 4)
        relationships.assign(name, patientPath.substring("/fhir/".length()), "test-admin",
                health.carapace.audit.AuditContext.none());
    }

    @Test
    void aSessionUnusedForTheIdleTimeoutEndsAndItsRefreshTokenIsRefused() throws Exception {
        SignInBrowser.Tokens tokens = browser.firstSignIn(users.create(name, Set.of(TestPolicy.CLINICIAN), null).link(), name, PASSWORD);
        assertThat(tokens.expiresIn()).as("an access token never outlives the idle deadline").isLessThanOrEqualTo(4);

        // Activity (a refresh) within the timeout keeps the session going.
        clock.advance(Duration.ofMillis(2000));
        SignInBrowser.Tokens refreshed = tokens(browser.refresh(tokens.refreshToken()));
        clock.advance(Duration.ofMillis(2500));
        assertThat(browser.fhirGet(patientPath, refreshed.accessToken()).statusCode())
                .as("4.5 s after login, 2.5 s after the last refresh").isEqualTo(200);

        // Then nothing for longer than the timeout: logged off.
        clock.advance(Duration.ofMillis(2000));
        HttpResponse<String> refused = browser.fhirGet(patientPath, refreshed.accessToken());
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(Refusals.outcomeOf(refused).getIssueFirstRep().getCode()).isEqualTo(IssueType.LOGIN);
        HttpResponse<String> refresh = browser.refresh(refreshed.refreshToken());
        assertThat(refresh.statusCode()).isEqualTo(400);
        assertThat(refresh.body()).contains("invalid_grant").doesNotContain("access_token");
    }

    @Test
    void aSessionEndsAtItsMaximumLifetimeHoweverActive() throws Exception {
        SignInBrowser.Tokens tokens = browser.firstSignIn(users.create(name, Set.of(TestPolicy.CLINICIAN), null).link(), name, PASSWORD);
        for (int i = 0; i < 3; i++) {
            clock.advance(Duration.ofMillis(2000));
            tokens = tokens(browser.refresh(tokens.refreshToken()));
        }
        assertThat(browser.fhirGet(patientPath, tokens.accessToken()).statusCode()).isEqualTo(200);

        // Refreshed 2.5 s ago (within the idle timeout), but more than 8 s after the login.
        clock.advance(Duration.ofMillis(2500));
        HttpResponse<String> refresh = browser.refresh(tokens.refreshToken());
        assertThat(refresh.statusCode()).isEqualTo(400);
        assertThat(refresh.body()).contains("invalid_grant").doesNotContain("access_token");
        assertThat(browser.fhirGet(patientPath, tokens.accessToken()).statusCode()).isEqualTo(401);
    }

    @Test
    void failedSignInsBackOffThenLockTheAccountWithTheSameAnswerAsAWrongPassword() throws Exception {
        assertThat(browser.setPassword(users.create(name, Set.of(TestPolicy.CLINICIAN), null).link(), PASSWORD).statusCode())
                .isEqualTo(200);
        String wrong = page(browser.submitPassword(name, "wrong password, long enough"));

        // Back-off: right after a failure even the right password is refused, with the same page.
        assertThat(page(browser.submitPassword(name, PASSWORD))).isEqualTo(wrong);
        clock.advance(Duration.ofMillis(350));
        HttpResponse<String> accepted = browser.submitPassword(name, PASSWORD);
        assertThat(accepted.statusCode()).as("after the back-off the password is checked").isEqualTo(303);

        // Three failures in a row lock the account; the right password then gets the same answer.
        browser.newBrowser();
        browser.submitPassword(name, "wrong 1, long enough");
        clock.advance(Duration.ofMillis(350));
        browser.submitPassword(name, "wrong 2, long enough");
        clock.advance(Duration.ofMillis(650));
        browser.submitPassword(name, "wrong 3, long enough");
        clock.advance(Duration.ofMillis(1300));
        assertThat(page(browser.submitPassword(name, PASSWORD))).as("locked").isEqualTo(wrong);
        assertThat(audited(name, "lockout")).isEqualTo(1);
        assertThat(audited(name, "login_failed")).isGreaterThanOrEqualTo(5);

        // The lock ends after carapace.login.lockout.
        clock.advance(Duration.ofMillis(3100));
        browser.newBrowser();
        HttpResponse<String> afterLock = browser.submitPassword(name, PASSWORD);
        assertThat(afterLock.statusCode()).isEqualTo(303);
        assertThat(location(afterLock)).endsWith("/login/totp");
    }

    @Test
    void anUnknownNameIsThrottledExactlyLikeAKnownOne() throws Exception {
        String unknown = "nobody-" + UUID.randomUUID().toString().substring(0, 8);
        String first = page(browser.submitPassword(unknown, PASSWORD));
        assertThat(first).contains("Sign-in failed");
        browser.submitPassword(unknown, PASSWORD);
        clock.advance(Duration.ofMillis(350));
        browser.submitPassword(unknown, PASSWORD);
        clock.advance(Duration.ofMillis(650));
        browser.submitPassword(unknown, PASSWORD);
        assertThat(page(browser.submitPassword(unknown, PASSWORD))).isEqualTo(first);
        assertThat(audited("unknown-user", "lockout")).isPositive();
    }

    @Test
    void anEnrolmentLinkExpires() throws Exception {
        Users.Enrolment enrolment = users.create(name, Set.of(TestPolicy.CLINICIAN), null);
        String token = SignInBrowser.query(java.net.URI.create(enrolment.link())).get("token");
        String csrf = SignInBrowser.csrf(browser.get(baseUrl() + "/login").body());

        clock.advance(Duration.ofMillis(5200));

        assertThat(browser.get(browser.local(enrolment.link())).statusCode()).isEqualTo(404);
        HttpResponse<String> late = browser.post(baseUrl() + "/login/enrol",
                Map.of("token", token, "password", PASSWORD, "confirm", PASSWORD, "_csrf", csrf));
        assertThat(late.statusCode()).isEqualTo(404);
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from iam.app_user where user_name = ? and password_hash is null")
                .param(name).query(Long.class).single()).isEqualTo(1);
    }

    /** The page without its per-session CSRF token. */
    private static String page(HttpResponse<String> response) {
        assertThat(response.statusCode()).as("a refusal re-renders the page").isEqualTo(200);
        return response.body().replaceAll("name=\"_csrf\" value=\"[^\"]+\"", "");
    }

    private long audited(String actor, String action) {
        return JdbcClient.create(dataSource).sql("select count(*) from audit.event where actor = ? and action = ?")
                .params(actor, action).query(Long.class).single();
    }
}
