package health.carapace.signin;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.LocalJwksServer;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Review F7 through the token endpoint: a backend client registered with a JWKS URL (served here on
 * loopback, which the start-dev setting allows) gets its keys fetched without redirects, a failing
 * URL is not fetched on every assertion, and failed assertions back off.
 */
class JwksUrlTest extends IntegrationTest {

    private static LocalJwksServer keys;
    private static ECKey key;

    @BeforeAll
    static void serve() throws Exception {
        keys = new LocalJwksServer(TestInstallation.dataDir().resolve("tls"));
        key = new ECKeyGenerator(Curve.P_384).keyID("k-" + UUID.randomUUID()).generate();
        keys.serve(new JWKSet(key.toPublicJWK()).toString());
    }

    @AfterAll
    static void stop() {
        keys.close();
    }

    private String backend(String jwksUrl) {
        return serviceClients.createBackend("jwks url", Set.of(TestPolicy.EVERYTHING), List.of("system/*.rs"), null,
                jwksUrl);
    }

    private HttpResponse<String> tokenRequest(String clientId, ECKey signer) throws Exception {
        Instant now = Instant.now();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES384).keyID(key.getKeyID()).build(),
                new JWTClaimsSet.Builder().issuer(clientId).subject(clientId).audience(baseUrl() + "/oauth2/token")
                        .expirationTime(Date.from(now.plusSeconds(240))).jwtID(UUID.randomUUID().toString()).build());
        jwt.sign(new ECDSASigner(signer));
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "client_credentials");
        form.put("scope", "system/Patient.rs");
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", jwt.serialize());
        return sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(SignInBrowser.form(form))));
    }

    @Test
    void aClientWhoseKeysAreAtItsJwksUrlGetsAToken() throws Exception {
        HttpResponse<String> issued = tokenRequest(backend(keys.url("/jwks")), key);
        assertThat(issued.statusCode()).as(issued.body()).isEqualTo(200);
    }

    @Test
    void aJwksUrlThatRedirectsIsNotFollowed() throws Exception {
        int before = keys.hits("/jwks");
        HttpResponse<String> refused = tokenRequest(backend(keys.url("/redirect")), key);
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(refused.body()).contains("invalid_client").doesNotContain("redirect").doesNotContain("localhost");
        assertThat(keys.hits("/jwks")).isEqualTo(before);
    }

    @Test
    void aJwksUrlAtTheCloudMetadataAddressIsRefusedWithoutAConnection() throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> refused = tokenRequest(backend("https://169.254.169.254/latest/jwks"), key);
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(refused.body()).doesNotContain("169.254");
        // Refused after the lookup, not after a connect timeout.
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - start)).isLessThan(java.time.Duration.ofSeconds(2));
    }

    @Test
    void jwksUrlsAtNat64TranslatedOrWireServerAddressesAreRefusedWithoutAConnection() throws Exception {
        // Attacks on the running server: internal addresses written in the forms a filter forgets.
        for (String url : List.of("https://[64:ff9b:1::a9fe:a9fe]/jwks", "https://[::ffff:0:a9fe:a9fe]/jwks",
                "https://[64:ff9b:1::a00:1]/jwks", "https://168.63.129.16/machine/jwks")) {
            long start = System.nanoTime();
            HttpResponse<String> refused = tokenRequest(backend(url), key);
            assertThat(refused.statusCode()).as(url).isEqualTo(401);
            assertThat(refused.body()).contains("invalid_client").doesNotContain("ff9b").doesNotContain("168.63")
                    .doesNotContain("a9fe");
            assertThat(java.time.Duration.ofNanos(System.nanoTime() - start)).as(url)
                    .isLessThan(java.time.Duration.ofSeconds(2));
        }
    }

    @Test
    void aFailingJwksUrlIsNotFetchedOnEveryAssertion() throws Exception {
        String clientId = backend(keys.url("/fail"));
        for (int i = 0; i < 3; i++) {
            assertThat(tokenRequest(clientId, key).statusCode()).isEqualTo(401);
        }
        assertThat(keys.hits("/fail")).isEqualTo(1);
    }

    @Test
    void aJwksHostOutageIsInvalidClientButNeverCountedAsFailedAssertions() throws Exception {
        // The client's keys cannot be fetched (its JWKS host answers 500): each well-signed assertion
        // is refused, but no number of them puts the client into the back-off (review M3).
        String clientId = backend(keys.url("/down"));
        for (int i = 0; i < 12; i++) { // more than twice the five free failures
            HttpResponse<String> refused = tokenRequest(clientId, key);
            assertThat(refused.statusCode()).as("attempt %d: %s", i + 1, refused.body()).isEqualTo(401);
            assertThat(refused.body()).contains("invalid_client").doesNotContain("slow_down");
        }
    }

    @Test
    void failedAssertionsBackOffUntilEvenAGoodOneWaits() throws Exception {
        String clientId = backend(keys.url("/jwks"));
        ECKey stranger = new ECKeyGenerator(Curve.P_384).keyID(key.getKeyID()).generate();
        for (int i = 0; i < 5; i++) {
            assertThat(tokenRequest(clientId, stranger).statusCode()).as("failure %d", i).isEqualTo(401);
        }
        HttpResponse<String> throttled = tokenRequest(clientId, key);
        assertThat(throttled.statusCode()).isEqualTo(429);
        assertThat(throttled.body()).contains("slow_down");
        assertThat(throttled.headers().firstValue("Retry-After")).hasValue("1");
    }
}
