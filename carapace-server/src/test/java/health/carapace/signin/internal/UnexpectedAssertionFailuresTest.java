package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Clock;
import java.util.Date;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.datasource.SimpleDriverDataSource;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;

/**
 * Review L13: whatever goes wrong while an assertion is checked (here the client lookup itself
 * throws, as a cache, a parser or the database may) is an OAuth {@code invalid_client}, never a
 * 500, and it counts towards the back-off like any failed assertion.
 */
class UnexpectedAssertionFailuresTest {

    private static final String ADDRESS = "203.0.113.7";

    @Test
    void anUnexpectedExceptionIsInvalidClientAndCountsTowardsTheBackOff() throws Exception {
        RegisteredClientRepository broken = new RegisteredClientRepository() {
            @Override
            public void save(RegisteredClient client) {
                throw new UnsupportedOperationException();
            }

            @Override
            public RegisteredClient findById(String id) {
                throw new IllegalStateException("the registry is broken");
            }

            @Override
            public RegisteredClient findByClientId(String clientId) {
                throw new IllegalStateException("the registry is broken");
            }
        };
        // No database is reached: the lookup fails first.
        PrivateKeyJwtClients assertions = new PrivateKeyJwtClients(broken, new SimpleDriverDataSource(),
                Clock.systemUTC(), () -> "https://carapace.example/oauth2/token", null, null);
        SignedJWT assertion = assertion("svc-a");

        for (int i = 0; i < AssertionFailures.FREE_FAILURES; i++) {
            Throwable refused = catchThrowable(() -> assertions.authenticate(
                    new PrivateKeyJwtClients.AssertionToken("svc-a", assertion, assertion.serialize(), ADDRESS)));
            assertThat(refused).as("attempt %s", i + 1).isExactlyInstanceOf(OAuth2AuthenticationException.class);
            assertThat(((OAuth2AuthenticationException) refused).getError().getErrorCode())
                    .isEqualTo(OAuth2ErrorCodes.INVALID_CLIENT);
            assertThat(String.valueOf(refused.getMessage())).as("nothing of the cause").doesNotContain("broken");
        }
        Throwable throttled = catchThrowable(() -> assertions.authenticate(
                new PrivateKeyJwtClients.AssertionToken("svc-a", assertion, assertion.serialize(), ADDRESS)));
        assertThat(throttled).isInstanceOf(ThrottledClientSecrets.Throttled.class);
    }

    private static SignedJWT assertion(String clientId) throws Exception {
        ECKey key = new ECKeyGenerator(Curve.P_384).keyID("k1").generate();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES384).keyID("k1").build(),
                new JWTClaimsSet.Builder().issuer(clientId).subject(clientId).audience("https://carapace.example/oauth2/token")
                        .expirationTime(new Date(System.currentTimeMillis() + 120_000)).jwtID(UUID.randomUUID().toString())
                        .build());
        jwt.sign(new ECDSASigner(key));
        return jwt;
    }
}
