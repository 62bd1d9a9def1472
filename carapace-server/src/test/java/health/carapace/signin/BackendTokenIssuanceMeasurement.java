package health.carapace.signin;

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
import health.carapace.testing.TestPolicy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Token issuance for SMART Backend Services (issue #18 asks for 500/s): assertions signed
 * beforehand (the client's cost, not the server's), then sent by 8 threads over kept-alive TLS;
 * every token must be issued (each verifies ES384, inserts its jti, signs an ES256 token and
 * audits a login). Tag "measurement":
 * {@code CI=true ./mvnw -q -o -pl carapace-server test -Dcarapace.test.excluded-groups=none
 * -Dtest=BackendTokenIssuanceMeasurement -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("measurement")
class BackendTokenIssuanceMeasurement extends IntegrationTest {

    private static final int TOKENS = 3_000;
    private static final int THREADS = 8;

    @Test
    void measureTokensPerSecond() throws Exception {
        ECKey key = new ECKeyGenerator(Curve.P_384).keyID("m").generate();
        String clientId = serviceClients.createBackend("measure", Set.of(TestPolicy.EVERYTHING), List.of("system/*.rs"),
                new JWKSet(key.toPublicJWK()).toString(), null);
        String[] bodies = new String[TOKENS];
        Instant now = Instant.now();
        for (int i = 0; i < TOKENS; i++) {
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES384).keyID("m").build(),
                    new JWTClaimsSet.Builder().issuer(clientId).subject(clientId).audience(baseUrl() + "/oauth2/token")
                            .expirationTime(Date.from(now.plusSeconds(280))).jwtID(UUID.randomUUID().toString()).build());
            jwt.sign(new ECDSASigner(key));
            bodies[i] = "grant_type=client_credentials&scope=system%2FPatient.rs&client_assertion_type="
                    + "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" + jwt.serialize();
        }
        HttpClient client = http();
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        long start = System.nanoTime();
        List<Future<?>> workers = new java.util.ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            workers.add(pool.submit(() -> {
                int i;
                while ((i = next.getAndIncrement()) < TOKENS) {
                    HttpResponse<Void> response = client.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/token"))
                            .header("Content-Type", "application/x-www-form-urlencoded")
                            .POST(HttpRequest.BodyPublishers.ofString(bodies[i])).build(), HttpResponse.BodyHandlers.discarding());
                    if (response.statusCode() != 200) {
                        failed.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> worker : workers) {
            worker.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        System.out.printf("MEASURED backend-services token issuance: %d tokens in %.1f s = %.0f/s with %d threads,"
                + " %d refused%n", TOKENS, seconds, TOKENS / seconds, THREADS, failed.get());
        org.assertj.core.api.Assertions.assertThat(failed.get()).isZero();
    }
}
