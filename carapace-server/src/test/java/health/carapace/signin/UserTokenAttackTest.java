package health.carapace.signin;

import static health.carapace.testing.SignInBrowser.location;
import static health.carapace.testing.SignInBrowser.tokens;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import health.carapace.access.CareRelationships;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestPolicy;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestInstallation;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Attacks on people's tokens and on the sign-in grant, against the running server. Each starts
 * from a real sign-in (password and TOTP through the pages) and changes one thing. FHIR refusals
 * are 401 OperationOutcomes (403 where the token is good but grants nothing); token-endpoint
 * refusals are OAuth2 errors; each is audited.
 */
class UserTokenAttackTest extends IntegrationTest {

    private static final String PASSWORD = "a long enough passphrase";

    @Autowired
    private Users users;

    @Autowired
    private CareRelationships relationships;

    @Autowired
    private DataSource dataSource;

    @Autowired
    private JWKSource<SecurityContext> serverKeys;

    private String patientPath;
    private String patientId;

    @BeforeEach
    void storeAPatient() {
        Patient patient = new Patient();
        patient.addName().setFamily("Attack" + UUID.randomUUID().toString().replace("-", ""));
        patientId = fhirClient().create().resource(patient).execute().getId().getIdPart();
        patientPath = "/fhir/Patient/" + patientId;
    }

    /** A person who has signed in, with the tokens the app received. */
    private record SignedIn(String name, SignInBrowser browser, SignInBrowser.Tokens tokens) {}

    private SignedIn signIn() {
        String name = "user-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(name, Set.of(TestPolicy.CLINICIAN), "prac-1");
        // a clinician reaches only patients in care: assign this one (issue #3 item 4)
        relationships.assign(name, "Patient/" + patientId, "test-admin", health.carapace.audit.AuditContext.none());
        SignInBrowser browser = newBrowser();
        SignInBrowser.Tokens tokens = browser.firstSignIn(enrolment.link(), name, PASSWORD);
        assertThat(browser.fhirGet(patientPath, tokens.accessToken()).statusCode()).as("control: the token works").isEqualTo(200);
        return new SignedIn(name, browser, tokens);
    }

    private SignInBrowser newBrowser() {
        return new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
    }

    // --- revocation and disabling act on the next request, on a token already verified and cached --

    @Test
    void revokingAUsersSessionsEndsTheirCachedAccessTokenOnTheNextRequest() {
        SignedIn user = signIn();
        long denials = audited("anonymous", "denied");

        users.revokeSessions(user.name());

        assertUnauthenticated(user.browser().fhirGet(patientPath, user.tokens().accessToken()));
        assertRefusedGrant(user.browser().refresh(user.tokens().refreshToken()));
        assertThat(audited("anonymous", "denied")).isGreaterThan(denials);
        assertThat(auditedByAdmin("session_revoked", user.name())).isEqualTo(1);
    }

    @Test
    void disablingAUserEndsTheirAccessAtOnceAndTheyCannotSignInAgain() {
        SignedIn user = signIn();

        users.disable(user.name());

        assertUnauthenticated(user.browser().fhirGet(patientPath, user.tokens().accessToken()));
        assertRefusedGrant(user.browser().refresh(user.tokens().refreshToken()));
        user.browser().newBrowser();
        user.browser().authorize();
        HttpResponse<String> again = user.browser().submitPassword(user.name(), PASSWORD);
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.body()).contains("Sign-in failed");
        assertThat(auditedByAdmin("user_disabled", user.name())).isEqualTo(1);
    }

    // --- forged and altered tokens ---------------------------------------------------------------

    @Test
    void rolesAndScopesWrittenIntoAUserTokenGrantNothing() throws Exception {
        SignedIn user = signIn();
        String forged = signed(serverKey(), claimsOf(user, claims -> claims
                .claim("roles", List.of("admin"))
                .claim("scope", "view:audit")
                .claim("scp", List.of("view:audit"))), true);

        // The session is real, so the token authenticates; the scope in it grants nothing.
        assertThat(user.browser().fhirGet(patientPath, forged).statusCode()).isEqualTo(200);
        HttpResponse<String> audit = user.browser().send(HttpRequest.newBuilder(
                URI.create(baseUrl() + "/admin/audit/disclosures?patient=" + patientId)).header("Authorization", "Bearer " + forged).GET());
        assertThat(audit.statusCode()).isEqualTo(403);
        assertThat(Refusals.outcomeOf(audit).getIssueFirstRep().getCode()).isEqualTo(IssueType.FORBIDDEN);
    }

    @Test
    void aUserTokenNamingAnotherPersonsSessionIsRefused() throws Exception {
        SignedIn alice = signIn();
        SignedIn bob = signIn();
        String bobsSid = SignedJWT.parse(bob.tokens().accessToken()).getJWTClaimsSet().getStringClaim("sid");

        String forged = signed(serverKey(), claimsOf(alice, claims -> claims.claim("sid", bobsSid)), true);

        assertUnauthenticated(alice.browser().fhirGet(patientPath, forged));
    }

    @Test
    void aUserTokenWithoutItsKindOrSessionIsRefused() throws Exception {
        SignedIn user = signIn();

        assertUnauthenticated(user.browser().fhirGet(patientPath,
                signed(serverKey(), claimsOf(user, claims -> claims.claim("kind", null)), true)));
        assertUnauthenticated(user.browser().fhirGet(patientPath,
                signed(serverKey(), claimsOf(user, claims -> claims.claim("sid", null)), true)));
        assertUnauthenticated(user.browser().fhirGet(patientPath,
                signed(serverKey(), claimsOf(user, claims -> claims.claim("sid", UUID.randomUUID().toString())), true)));
    }

    @Test
    void unsignedWrongKeyAndExpiredUserTokensAreRefused() throws Exception {
        SignedIn user = signIn();
        JWTClaimsSet claims = claimsOf(user, UnaryOperator.identity());
        Instant now = Instant.now();

        assertUnauthenticated(user.browser().fhirGet(patientPath, new PlainJWT(claims).serialize()));
        String header = base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        String[] real = user.tokens().accessToken().split("\\.");
        assertUnauthenticated(user.browser().fhirGet(patientPath, header + "." + real[1] + "."));
        assertUnauthenticated(user.browser().fhirGet(patientPath, header + "." + real[1] + "." + real[2]));
        ECKey attacker = new ECKeyGenerator(Curve.P_256).keyID(serverKey().getKeyID()).generate();
        assertUnauthenticated(user.browser().fhirGet(patientPath, signed(attacker, claims, true)));
        assertUnauthenticated(user.browser().fhirGet(patientPath, signed(serverKey(), claimsOf(user, c -> c
                .issueTime(Date.from(now.minus(Duration.ofMinutes(20))))
                .notBeforeTime(Date.from(now.minus(Duration.ofMinutes(20))))
                .expirationTime(Date.from(now.minus(Duration.ofMinutes(5))))), true)));
    }

    // --- the authorization code grant ------------------------------------------------------------

    @Test
    void anAuthorizationRequestWithoutPkceOrWithPlainPkceIsRefused() {
        SignInBrowser browser = newBrowser();
        browser.authorize();
        String verifier = SignInBrowser.randomText();

        assertAuthorizationError(browser, browser.get(browser.authorizeUrl(Map.of())), "invalid_request");
        assertAuthorizationError(browser, browser.get(browser.authorizeUrl(Map.of(
                "code_challenge", verifier, "code_challenge_method", "plain"))), "invalid_request");
        assertAuthorizationError(browser, browser.get(browser.authorizeUrl(Map.of(
                "code_challenge", SignInBrowser.s256(verifier), "code_challenge_method", "S256", "scope", "view:audit"))),
                "invalid_scope");
    }

    @Test
    void aCodeExchangedWithAWrongOrMissingVerifierGivesNoToken() {
        String name = "user-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(name, Set.of(TestPolicy.CLINICIAN), null);
        SignInBrowser browser = newBrowser();
        browser.firstSignIn(enrolment.link(), name, PASSWORD);
        browser.newBrowser();
        browser.authorize();
        browser.submitPassword(name, PASSWORD);
        String code = browser.followToCode(browser.submitMfaCode(browser.nextCode(browser.secret)));

        // Without a verifier a public app is not authenticated at all.
        HttpResponse<String> missing = browser.exchange(code, null);
        assertThat(missing.statusCode()).isEqualTo(401);
        assertThat(missing.body()).doesNotContain("access_token");
        assertRefusedGrant(browser.exchange(code, SignInBrowser.randomText()));
        assertThat(audited("unknown-client", "login_failed") + audited(SignInBrowser.APP, "login_failed")).isPositive();
        // Whoever intercepted the code cannot use it; the app holding the verifier still can.
        assertThat(browser.exchange(code, browser.verifier).statusCode()).isEqualTo(200);
    }

    @Test
    void aReusedCodeIsRefusedAndEndsTheSessionItStarted() {
        SignedIn user = signIn();

        assertRefusedGrant(user.browser().exchange(user.browser().code, user.browser().verifier));

        assertUnauthenticated(user.browser().fhirGet(patientPath, user.tokens().accessToken()));
        assertThat(audited(user.name(), "session_revoked")).isEqualTo(1);
    }

    @Test
    void aReplayedRefreshTokenIsRefusedAndEndsTheSession() {
        SignedIn user = signIn();
        SignInBrowser.Tokens rotated = tokens(user.browser().refresh(user.tokens().refreshToken()));
        assertThat(user.browser().fhirGet(patientPath, rotated.accessToken()).statusCode()).isEqualTo(200);

        assertRefusedGrant(user.browser().refresh(user.tokens().refreshToken()));

        // One of the two holders is a thief: the whole session ends, the rotated tokens too.
        assertRefusedGrant(user.browser().refresh(rotated.refreshToken()));
        assertUnauthenticated(user.browser().fhirGet(patientPath, rotated.accessToken()));
        assertThat(audited(user.name(), "session_revoked")).isEqualTo(1);
    }

    @Test
    void oneRefreshTokenSentManyTimesAtOnceGivesAtMostOneTokenAndEndsTheSession() throws Exception {
        // A thief racing the real client: the requests read the same authorization before either
        // saves. Several rounds, so that at least one round really overlaps on a busy machine.
        for (int round = 0; round < 3; round++) {
            SignedIn user = signIn();
            int parallel = 4;
            CountDownLatch start = new CountDownLatch(1);
            ExecutorService senders = Executors.newFixedThreadPool(parallel);
            try {
                List<Future<HttpResponse<String>>> sent = new java.util.ArrayList<>();
                for (int i = 0; i < parallel; i++) {
                    SignInBrowser sender = user.browser();
                    sent.add(senders.submit(() -> {
                        start.await();
                        return sender.refresh(user.tokens().refreshToken());
                    }));
                }
                start.countDown();
                List<SignInBrowser.Tokens> granted = new java.util.ArrayList<>();
                for (Future<HttpResponse<String>> response : sent) {
                    HttpResponse<String> answer = response.get(30, TimeUnit.SECONDS);
                    if (answer.statusCode() == 200) {
                        granted.add(tokens(answer));
                    } else {
                        assertRefusedGrant(answer);
                    }
                }
                assertThat(granted.size()).as("round %d: tokens granted for one refresh token", round).isLessThanOrEqualTo(1);
                // The others were a replay or a lost race: the session ends, the surviving tokens too.
                for (SignInBrowser.Tokens survivor : granted) {
                    assertRefusedGrant(user.browser().refresh(survivor.refreshToken()));
                    assertUnauthenticated(user.browser().fhirGet(patientPath, survivor.accessToken()));
                }
                assertThat(audited(user.name(), "session_revoked")).isEqualTo(1);
            } finally {
                senders.shutdownNow();
            }
        }
    }

    @Test
    void revokingAPersonsAccessTokenEndsTheirSession() {
        SignedIn user = signIn();

        HttpResponse<String> revoked = user.browser().post(baseUrl() + "/oauth2/revoke", Map.of("token",
                user.tokens().accessToken(), "token_type_hint", "access_token", "client_id", SignInBrowser.APP));

        assertThat(revoked.statusCode()).isEqualTo(200);
        assertUnauthenticated(user.browser().fhirGet(patientPath, user.tokens().accessToken()));
        assertRefusedGrant(user.browser().refresh(user.tokens().refreshToken()));
        assertThat(audited(user.name(), "logout")).isEqualTo(1);
    }

    @Test
    void revokingAPersonsAccessTokenThatThisNodeNeverIssuedEndsItAndTheirSession() throws Exception {
        SignedIn user = signIn();
        // Same session, same key, but unknown to this node's authorization service: a token issued
        // by another node, or before a restart.
        String elsewhere = signed(serverKey(), claimsOf(user, UnaryOperator.identity()), true);
        assertThat(user.browser().fhirGet(patientPath, elsewhere).statusCode()).as("control: the token works").isEqualTo(200);

        HttpResponse<String> revoked = user.browser().post(baseUrl() + "/oauth2/revoke", Map.of("token", elsewhere,
                "token_type_hint", "access_token", "client_id", SignInBrowser.APP));

        assertThat(revoked.statusCode()).isEqualTo(200);
        assertUnauthenticated(user.browser().fhirGet(patientPath, elsewhere));
        assertUnauthenticated(user.browser().fhirGet(patientPath, user.tokens().accessToken()));
        assertRefusedGrant(user.browser().refresh(user.tokens().refreshToken()));
        assertThat(audited(user.name(), "logout")).isEqualTo(1);
    }

    @Test
    void aRefreshTokenRevokedAtAnotherNodeIsRefusedHereAndEndsTheSession() throws Exception {
        SignedIn user = signIn();
        String refreshToken = user.tokens().refreshToken();
        // Another node, which never held this refresh token, was asked to revoke it: it lists the
        // token's SHA-256 (never the token) in the shared table, as this node's endpoint does too.
        JdbcClient.create(dataSource).sql("insert into iam.revoked_token (jti, expires_at) values (?, ?)")
                .params("refresh:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest
                                .getInstance("SHA-256").digest(refreshToken.getBytes(StandardCharsets.US_ASCII))),
                        java.sql.Timestamp.from(Instant.now().plus(java.time.Duration.ofHours(12))))
                .update();

        assertRefusedGrant(user.browser().refresh(refreshToken));
        assertUnauthenticated(user.browser().fhirGet(patientPath, user.tokens().accessToken()));
        assertThat(audited(user.name(), "session_revoked")).as("the session ended").isEqualTo(1);
    }

    @Test
    void revokingARefreshTokenThisNodeDoesNotHoldListsItForTheNodeThatDoes() throws Exception {
        // The shape of our refresh tokens (32 random bytes, base64url: 43 characters), issued by
        // another node. (This test used Spring's own 128-character shape, which ours never had.)
        byte[] random = new byte[32];
        new java.security.SecureRandom().nextBytes(random);
        String elsewhere = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        HttpResponse<String> revoked = signIn().browser().post(baseUrl() + "/oauth2/revoke", Map.of("token", elsewhere,
                "token_type_hint", "refresh_token", "client_id", SignInBrowser.APP));

        assertThat(revoked.statusCode()).isEqualTo(200);
        String listed = "refresh:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(elsewhere.getBytes(StandardCharsets.US_ASCII)));
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from iam.revoked_token where jti = ?")
                .param(listed).query(Long.class).single()).as("listed by its hash").isEqualTo(1);
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from iam.revoked_token where jti like ?")
                .param("%" + elsewhere + "%").query(Long.class).single()).as("never in clear").isZero();
    }

    @Test
    void aServiceClientCannotRevokeAPersonsAccessToken() {
        SignedIn user = signIn();
        ServiceClients.Credentials other = serviceClients.create("revoke-a-person");

        HttpResponse<String> refused = user.browser().post(baseUrl() + "/oauth2/revoke", Map.of("token",
                user.tokens().accessToken(), "client_id", other.clientId(), "client_secret", other.clientSecret()));

        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(refused.body()).contains("invalid_client").doesNotContain(user.tokens().accessToken());
        assertThat(user.browser().fhirGet(patientPath, user.tokens().accessToken()).statusCode()).isEqualTo(200);
        assertThat(audited(user.name(), "logout")).isZero();
    }

    @Test
    void aRefreshTokenIsBoundToTheAppThatReceivedIt() {
        SignedIn user = signIn();
        ServiceClients.Credentials other = serviceClients.create("refresh-thief");

        HttpResponse<String> asOther = user.browser().post(baseUrl() + "/oauth2/token", Map.of("grant_type", "refresh_token",
                "refresh_token", user.tokens().refreshToken(), "client_id", other.clientId(),
                "client_secret", other.clientSecret()));
        assertThat(asOther.statusCode()).isIn(400, 401);
        assertThat(asOther.body()).doesNotContain("access_token");
    }

    @Test
    void aServiceClientCannotObtainAScopeItWasNotGranted() {
        ServiceClients.Credentials client = serviceClients.create("scope-escalation");
        String basic = Base64.getEncoder().encodeToString((client.clientId() + ":" + client.clientSecret())
                .getBytes(StandardCharsets.UTF_8));

        HttpResponse<String> response = sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&scope=view:audit")));

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("invalid_scope").doesNotContain("access_token");
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from audit.event where actor = ? and action = 'login_failed'")
                .param(client.clientId()).query(Long.class).single()).isEqualTo(1);
    }

    // --- assertions -------------------------------------------------------------------------------

    private static void assertUnauthenticated(HttpResponse<String> response) {
        assertThat(response.statusCode()).as("status; body: %s", response.body()).isEqualTo(401);
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getCode()).isEqualTo(IssueType.LOGIN);
        assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getDiagnostics()).startsWith("A valid bearer token is required");
    }

    private static void assertRefusedGrant(HttpResponse<String> response) {
        assertThat(response.statusCode()).as("token endpoint: %s", response.body()).isEqualTo(400);
        assertThat(response.body()).contains("invalid_grant").doesNotContain("access_token");
    }

    private static void assertAuthorizationError(SignInBrowser browser, HttpResponse<String> response, String error) {
        assertThat(response.statusCode()).as("authorization response: %s", response.body()).isEqualTo(302);
        URI redirect = URI.create(location(response));
        assertThat(redirect.toString()).startsWith(browser.redirectUri);
        Map<String, String> query = SignInBrowser.query(redirect);
        assertThat(query.get("error")).isEqualTo(error);
        assertThat(query).doesNotContainKey("code");
    }

    private long audited(String actor, String action) {
        return JdbcClient.create(dataSource).sql("select count(*) from audit.event where actor = ? and action = ?")
                .params(actor, action).query(Long.class).single();
    }

    /** Events recorded by the admin commands: the actor is the OS account, the resource names the user. */
    private long auditedByAdmin(String action, String userName) {
        return JdbcClient.create(dataSource).sql("select count(*) from audit.event where action = ?"
                        + " and convert_from(body, 'UTF8') like ?")
                .params(action, "%/admin/users/" + userName + "%").query(Long.class).single();
    }

    // --- tokens -------------------------------------------------------------------------------

    private ECKey serverKey() throws Exception {
        return (ECKey) serverKeys.get(new JWKSelector(new JWKMatcher.Builder().keyType(KeyType.EC).privateOnly(true).build()), null)
                .get(0);
    }

    /** The claims of the user's real access token, fresh times and id, then changed. */
    private static JWTClaimsSet claimsOf(SignedIn user, UnaryOperator<JWTClaimsSet.Builder> change) throws Exception {
        Instant now = Instant.now();
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder(SignedJWT.parse(user.tokens().accessToken()).getJWTClaimsSet())
                .issueTime(Date.from(now)).notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(Duration.ofMinutes(5)))).jwtID(UUID.randomUUID().toString());
        return change.apply(claims).build();
    }

    private static String signed(ECKey key, JWTClaimsSet claims, boolean withKeyId) throws Exception {
        JWSHeader.Builder header = new JWSHeader.Builder(JWSAlgorithm.ES256).type(JOSEObjectType.JWT);
        if (withKeyId) {
            header.keyID(key.getKeyID());
        }
        SignedJWT token = new SignedJWT(header.build(), claims);
        token.sign(new ECDSASigner(key));
        // The server signs (and accepts) only the low-s form; a forgery differs in one thing only.
        return health.carapace.testing.EcdsaSignatures.lowS(token.serialize());
    }

    private static String base64Url(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }
}
