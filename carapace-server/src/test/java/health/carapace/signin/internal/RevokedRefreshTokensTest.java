package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.Users;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The list of revoked refresh tokens every node reads ({@code iam.revoked_token}, by SHA-256):
 * it records our refresh tokens (43 characters; it used to expect 128 and recorded none), and a
 * token on it is refused at its next use, whichever node listed it, and ends its session.
 */
class RevokedRefreshTokensTest extends IntegrationTest {

    private static final String PASSWORD = "a long enough passphrase";

    @Autowired
    private Users users;

    @Autowired
    private RevokedTokens revokedTokens;

    @Test
    void aRefreshTokenRevokedAtTheEndpointIsListedByItsHashForEveryNode() {
        SignInBrowser browser = signedInBrowser();
        SignInBrowser.Tokens tokens = browser.firstSignIn(enrolmentLink(), name, PASSWORD);
        assertThat(tokens.refreshToken()).matches(RevokedTokens.REFRESH_TOKEN_SHAPE);

        assertThat(browser.revoke(tokens.refreshToken()).statusCode()).isEqualTo(200);

        assertThat(revokedTokens.isRevokedRefreshToken(tokens.refreshToken())).isTrue();
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from iam.revoked_token where jti = ?")
                .param(RevokedTokens.refreshTokenKey(tokens.refreshToken())).query(Long.class).single()).isEqualTo(1);
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from iam.revoked_token where position(? in jti) > 0")
                .param(tokens.refreshToken()).query(Long.class).single()).as("never in clear").isZero();
    }

    @Test
    void aRefreshTokenListedAsRevokedElsewhereIsRefusedAtItsNextUseAndEndsTheSession() {
        SignInBrowser browser = signedInBrowser();
        SignInBrowser.Tokens tokens = browser.firstSignIn(enrolmentLink(), name, PASSWORD);
        assertThat(browser.fhirGet("/fhir/Patient?_count=1", tokens.accessToken()).statusCode()).as("control")
                .isEqualTo(200);

        // what a node does when the revocation it was asked for was not found in the store it read
        revokedTokens.revokeRefreshToken(tokens.refreshToken(), Duration.ofHours(1));

        assertThat(browser.refresh(tokens.refreshToken()).statusCode()).isEqualTo(400);
        assertThat(browser.fhirGet("/fhir/Patient?_count=1", tokens.accessToken()).statusCode())
                .as("the session ended").isEqualTo(401);
    }

    @Test
    void aValueThatIsNotOneOfOurRefreshTokensIsNotListed() {
        String notOurs = "x".repeat(128);
        revokedTokens.revokeRefreshToken(notOurs, Duration.ofHours(1));
        assertThat(revokedTokens.isRevokedRefreshToken(notOurs)).isFalse();
    }

    private String name;
    private Users.Enrolment enrolment;

    private SignInBrowser signedInBrowser() {
        name = "revoked-" + UUID.randomUUID().toString().substring(0, 8);
        enrolment = users.create(name, Set.of(TestPolicy.CLINICIAN), null);
        return new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
    }

    private String enrolmentLink() {
        return enrolment.link();
    }
}
