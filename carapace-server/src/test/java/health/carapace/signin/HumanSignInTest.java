package health.carapace.signin;

import static health.carapace.testing.SignInBrowser.location;
import static health.carapace.testing.SignInBrowser.tokens;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jwt.SignedJWT;
import health.carapace.access.CareRelationships;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestPolicy;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestInstallation;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A person signs in end to end through the real pages, as a browser and an app would: enrolment
 * link → password → TOTP enrolment at the first sign-in → authorization code with PKCE → tokens →
 * FHIR API → refresh → logout (revocation) → refused. Later sign-ins need the TOTP code again;
 * a wrong or replayed code gets no further.
 */
class HumanSignInTest extends IntegrationTest {

    private static final String PASSWORD = "correct horse battery staple";

    @Autowired
    private Users users;

    @Autowired
    private CareRelationships relationships;

    @Autowired
    private DataSource dataSource;

    private SignInBrowser browser;
    private String userName;
    private String patientPath;

    @BeforeEach
    void setUp() {
        browser = new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
        userName = "nurse-" + UUID.randomUUID().toString().substring(0, 8);
        Patient patient = new Patient();
        patient.addName().setFamily("Signin" + UUID.randomUUID().toString().replace("-", ""));
        String patientId = fhirClient().create().resource(patient).execute().getId().getIdPart();
        patientPath = "/fhir/Patient/" + patientId;
        // the clinician role reaches only patients in care (issue #3 item 4): assign this one
        relationships.assign(userName, "Patient/" + patientId, "test-admin", health.carapace.audit.AuditContext.none());
    }

    @Test
    void aPersonSignsInWithPasswordAndTotpUsesTheApiRefreshesAndSignsOut() throws Exception {
        Users.Enrolment enrolment = users.create(userName, Set.of(TestPolicy.CLINICIAN), "prac-7");
        assertThat(enrolment.link()).startsWith("https://").contains("/login/enrol?token=");

        // The app starts an authorization request; the server sends the browser to its sign-in page.
        assertThat(browser.setPassword(enrolment.link(), PASSWORD).statusCode()).isEqualTo(200);
        HttpResponse<String> toLogin = browser.authorize();
        assertThat(toLogin.statusCode()).isEqualTo(302);
        assertThat(location(toLogin)).endsWith("/login");

        HttpResponse<String> loginPage = browser.get(baseUrl() + "/login");
        assertThat(loginPage.headers().firstValue("Content-Security-Policy").orElseThrow())
                .contains("default-src 'none'").contains("frame-ancestors 'none'");
        assertThat(loginPage.headers().allValues("Cache-Control")).anyMatch(v -> v.contains("no-store"));
        assertThat(loginPage.body()).doesNotContain("<script").doesNotContain("http://").doesNotContain("https://");

        // Password first; no TOTP yet, so the first sign-in enrols it.
        HttpResponse<String> afterPassword = browser.submitPassword(userName, PASSWORD);
        assertThat(afterPassword.statusCode()).isEqualTo(303);
        assertThat(location(afterPassword)).endsWith("/login/totp");
        HttpResponse<String> enrolPage = browser.get(baseUrl() + "/login/totp");
        assertThat(enrolPage.body()).contains("otpauth://totp/").contains("algorithm=SHA256").contains("digits=6")
                .contains("period=30");
        String secret = browser.enrolmentSecret();

        // A code that is wrong is refused, the right one completes the sign-in.
        HttpResponse<String> wrong = browser.submitEnrolmentCode(wrongCode(secret));
        assertThat(wrong.statusCode()).isEqualTo(200);
        assertThat(wrong.body()).contains("was not accepted");
        Thread.sleep(1100); // the back-off after one failure (carapace.login.backoff-base)
        String code = browser.followToCode(browser.submitEnrolmentCode(browser.nextCode(secret)));

        // PKCE: the code is exchanged with the verifier, by the public app (no secret).
        SignInBrowser.Tokens tokens = tokens(browser.exchange(code, browser.verifier));
        assertThat(tokens.refreshToken()).isNotBlank();
        assertThat(tokens.expiresIn()).isLessThanOrEqualTo(Duration.ofMinutes(15).toSeconds());
        var claims = SignedJWT.parse(tokens.accessToken()).getJWTClaimsSet();
        assertThat(claims.getSubject()).isEqualTo(userName);
        assertThat(claims.getStringClaim("kind")).isEqualTo("user");
        assertThat(claims.getStringClaim("sid")).isNotBlank();
        assertThat(Duration.between(claims.getIssueTime().toInstant(), claims.getExpirationTime().toInstant()))
                .isLessThanOrEqualTo(Duration.ofMinutes(15));
        assertThat(sessionRows(claims.getStringClaim("sid"))).isEqualTo(1);

        assertThat(browser.fhirGet(patientPath, tokens.accessToken()).statusCode()).isEqualTo(200);

        // Refresh: a new access token and a new refresh token, same session.
        SignInBrowser.Tokens refreshed = tokens(browser.refresh(tokens.refreshToken()));
        assertThat(refreshed.refreshToken()).isNotEqualTo(tokens.refreshToken());
        assertThat(SignedJWT.parse(refreshed.accessToken()).getJWTClaimsSet().getStringClaim("sid"))
                .isEqualTo(claims.getStringClaim("sid"));
        assertThat(browser.fhirGet(patientPath, refreshed.accessToken()).statusCode()).isEqualTo(200);

        // Logout: revoking the refresh token ends the session; both access tokens die at once.
        assertThat(browser.revoke(refreshed.refreshToken()).statusCode()).isEqualTo(200);
        for (String accessToken : new String[] {refreshed.accessToken(), tokens.accessToken()}) {
            HttpResponse<String> refused = browser.fhirGet(patientPath, accessToken);
            assertThat(refused.statusCode()).isEqualTo(401);
            assertThat(Refusals.outcomeOf(refused).getIssueFirstRep().getCode()).isEqualTo(IssueType.LOGIN);
        }
        assertThat(browser.refresh(refreshed.refreshToken()).statusCode()).isEqualTo(400);
        assertThat(auditCount(userName, "login")).isEqualTo(1);
        assertThat(auditCount(userName, "logout")).isEqualTo(1);
        assertThat(auditCount(userName, "mfa_failed")).isEqualTo(1);

        // A second sign-in asks for the TOTP code again (the browser is fresh, and so is the session).
        browser.newBrowser();
        browser.authorize();
        HttpResponse<String> second = browser.submitPassword(userName, PASSWORD);
        assertThat(location(second)).endsWith("/login/mfa");
        // Without the code, the authorization endpoint still sends the browser to sign in.
        HttpResponse<String> skipped = browser.get(browser.authorizeUrl(java.util.Map.of(
                "code_challenge", SignInBrowser.s256(browser.verifier), "code_challenge_method", "S256")));
        assertThat(skipped.statusCode()).isEqualTo(302);
        assertThat(location(skipped)).endsWith("/login");
        HttpResponse<String> wrongMfa = browser.submitMfaCode(wrongCode(secret));
        assertThat(wrongMfa.statusCode()).isEqualTo(200);
        assertThat(wrongMfa.body()).contains("was not accepted").doesNotContain("Location");
        Thread.sleep(1100);
        String secondCode = browser.followToCode(browser.submitMfaCode(browser.nextCode(secret)));
        SignInBrowser.Tokens again = tokens(browser.exchange(secondCode, browser.verifier));
        assertThat(browser.fhirGet(patientPath, again.accessToken()).statusCode()).isEqualTo(200);
        assertThat(SignedJWT.parse(again.accessToken()).getJWTClaimsSet().getStringClaim("sid"))
                .isNotEqualTo(claims.getStringClaim("sid"));
    }

    @Test
    void aTotpCodeIsAcceptedOnlyOnce() {
        Users.Enrolment enrolment = users.create(userName, Set.of(TestPolicy.CLINICIAN), null);
        browser.firstSignIn(enrolment.link(), userName, PASSWORD);
        browser.signIn(userName, PASSWORD);
        String used = browser.lastCode(browser.secret);

        browser.newBrowser();
        browser.authorize();
        assertThat(location(browser.submitPassword(userName, PASSWORD))).endsWith("/login/mfa");
        HttpResponse<String> replay = browser.submitMfaCode(used);

        assertThat(replay.statusCode()).isEqualTo(200);
        assertThat(replay.body()).contains("was not accepted");
        assertThat(replay.headers().firstValue("Location")).isEmpty();
    }

    @Test
    void theSignInPagesSayTheSameForAnUnknownUserAWrongPasswordAndADisabledAccount() {
        Users.Enrolment enrolment = users.create(userName, Set.of(TestPolicy.CLINICIAN), null);
        assertThat(browser.setPassword(enrolment.link(), PASSWORD).statusCode()).isEqualTo(200);
        String disabledName = "gone-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment disabled = users.create(disabledName, Set.of(TestPolicy.CLINICIAN), null);
        assertThat(new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()))
                .setPassword(disabled.link(), PASSWORD).statusCode()).isEqualTo(200);
        users.disable(disabledName);

        String wrongPassword = normalised(browser.submitPassword(userName, PASSWORD + "x"));
        browser.newBrowser();
        String unknownUser = normalised(browser.submitPassword("nobody-" + UUID.randomUUID(), PASSWORD));
        browser.newBrowser();
        String disabledAccount = normalised(browser.submitPassword(disabledName, PASSWORD));

        assertThat(wrongPassword).contains("Sign-in failed");
        assertThat(unknownUser).isEqualTo(wrongPassword);
        assertThat(disabledAccount).isEqualTo(wrongPassword);
        assertThat(wrongPassword).doesNotContain(userName);
    }

    @Test
    void formsWithoutTheCsrfTokenAreRefused() {
        browser.get(baseUrl() + "/login");
        HttpResponse<String> response = browser.post(baseUrl() + "/login",
                java.util.Map.of("username", "someone", "password", PASSWORD));
        assertThat(response.statusCode()).isEqualTo(403);
    }

    @Test
    void anEnrolmentLinkWorksOnceAndRefusesAWeakPassword() {
        Users.Enrolment enrolment = users.create(userName, Set.of(TestPolicy.CLINICIAN), null);

        HttpResponse<String> tooShort = browser.post(baseUrl() + "/login/enrol", java.util.Map.of(
                "token", SignInBrowser.query(java.net.URI.create(enrolment.link())).get("token"),
                "password", "short", "confirm", "short",
                "_csrf", SignInBrowser.csrf(browser.get(browser.local(enrolment.link())).body())));
        assertThat(tooShort.body()).contains("at least 12 characters");
        HttpResponse<String> withName = browser.setPassword(enrolment.link(), "xx" + userName.toUpperCase() + "yy");
        assertThat(withName.body()).contains("must not contain your user name");

        assertThat(browser.setPassword(enrolment.link(), PASSWORD).statusCode()).isEqualTo(200);
        assertThat(browser.get(browser.local(enrolment.link())).statusCode()).isEqualTo(404);
        HttpResponse<String> reused = browser.post(baseUrl() + "/login/enrol", java.util.Map.of(
                "token", SignInBrowser.query(java.net.URI.create(enrolment.link())).get("token"),
                "password", PASSWORD + "2", "confirm", PASSWORD + "2",
                "_csrf", SignInBrowser.csrf(browser.get(baseUrl() + "/login").body())));
        assertThat(reused.statusCode()).isEqualTo(404);
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from iam.enrolment e join iam.app_user u"
                + " on u.id = e.user_id where u.user_name = ? and e.used_at is not null").param(userName)
                .query(Long.class).single()).isEqualTo(1);
    }

    // --- helpers ------------------------------------------------------------------------------

    /** A six-digit code that is none of the codes the server would accept now. */
    private static String wrongCode(String secret) {
        long now = Instant.now().getEpochSecond() / 30;
        Set<String> valid = Set.of(SignInBrowser.totp(secret, now - 1), SignInBrowser.totp(secret, now),
                SignInBrowser.totp(secret, now + 1), SignInBrowser.totp(secret, now + 2));
        for (int i = 0; ; i++) {
            String candidate = String.format("%06d", (123456 + i * 7919) % 1_000_000);
            if (!valid.contains(candidate)) {
                return candidate;
            }
        }
    }

    /** The page without its per-session CSRF token. */
    private static String normalised(HttpResponse<String> response) {
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body().replaceAll("name=\"_csrf\" value=\"[^\"]+\"", "");
    }

    private long sessionRows(String sid) {
        return JdbcClient.create(dataSource).sql("select count(*) from iam.session where id = ?::uuid").param(sid)
                .query(Long.class).single();
    }

    private long auditCount(String actor, String action) {
        return JdbcClient.create(dataSource).sql("select count(*) from audit.event where actor = ? and action = ?")
                .params(actor, action).query(Long.class).single();
    }
}
