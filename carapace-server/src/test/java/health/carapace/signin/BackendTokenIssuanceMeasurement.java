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
 * audits a login), timed after a warm-up of {@code -Dwarmup} (default 5,000) tokens over {@code -Dtokens}
 * (default 5,000); {@code -Dmeasurement.jfr=FILE} records the timed phase with JFR. Tag "measurement":
 * {@code CI=true ./mvnw -q -o -pl carapace-server test -Dcarapace.test.excluded-groups=none
 * -Dtest=BackendTokenIssuanceMeasurement -Dsurefire.failIfNoSpecifiedTests=false}.
 * Its client shares the test JVM (and its JIT) with the server, so it is a floor: the figure
 * is measured with the client in its own process (carapace-bench's {@code issue-backend-token}
 * workload, or wrk with {@code carapace-bench/wrk/issue-backend-token.lua}; docs/BENCHMARKS.md).
 */
@Tag("measurement")
class BackendTokenIssuanceMeasurement extends IntegrationTest {

    private static final int TOKENS = Integer.getInteger("tokens", 5_000);
    private static final int WARM_UP = Integer.getInteger("warmup", 5_000);
    private static final int THREADS = 8;

    @Test
    void measureTokensPerSecond() throws Exception {
        ECKey key = new ECKeyGenerator(Curve.P_384).keyID("m").generate();
        String clientId = serviceClients.createBackend("measure", Set.of(TestPolicy.EVERYTHING), List.of("system/*.rs"),
                new JWKSet(key.toPublicJWK()).toString(), null);
        String[] bodies = new String[WARM_UP + TOKENS];
        Instant now = Instant.now();
        for (int i = 0; i < bodies.length; i++) {
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES384).keyID("m").build(),
                    new JWTClaimsSet.Builder().issuer(clientId).subject(clientId).audience(baseUrl() + "/oauth2/token")
                            .expirationTime(Date.from(now.plusSeconds(280))).jwtID(UUID.randomUUID().toString()).build());
            jwt.sign(new ECDSASigner(key));
            bodies[i] = "grant_type=client_credentials&scope=system%2FPatient.rs&client_assertion_type="
                    + "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" + jwt.serialize();
        }
        HttpClient client = http();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            // A fresh JVM spends its first seconds compiling (C1/C2 took a third of the CPU in an
            // unwarmed run): the figure is the steady state after a warm-up, as wrk's runs are.
            int warmUpRefused = send(client, pool, bodies, 0, WARM_UP);
            calibrate(key, bodies[0]);
            System.out.println("TIMED PHASE STARTS");
            jdk.jfr.Recording recording = System.getProperty("measurement.jfr") == null ? null
                    : new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
            if (recording != null) {
                recording.start();
            }
            long start = System.nanoTime();
            int refused = send(client, pool, bodies, WARM_UP, bodies.length);
            double seconds = (System.nanoTime() - start) / 1e9;
            if (recording != null) {
                recording.stop();
                recording.dump(java.nio.file.Path.of(System.getProperty("measurement.jfr")));
            }
            System.out.printf("MEASURED backend-services token issuance: %d tokens in %.1f s = %.0f/s with %d threads"
                    + " after %d warm-up tokens, %d refused%n", TOKENS, seconds, TOKENS / seconds, THREADS, WARM_UP, refused);
            org.assertj.core.api.Assertions.assertThat(warmUpRefused + refused).isZero();
        } finally {
            pool.shutdown();
        }
    }

    /** What one ES384 verification costs in this JVM, alone: the floor under the server's work per token. */
    private static void calibrate(ECKey key, String body) throws Exception {
        String assertion = body.substring(body.indexOf("client_assertion=") + "client_assertion=".length());
        com.nimbusds.jose.crypto.ECDSAVerifier verifier = new com.nimbusds.jose.crypto.ECDSAVerifier(key.toPublicJWK());
        verifier.getJCAContext().setProvider(com.nimbusds.jose.crypto.bc.BouncyCastleProviderSingleton.getInstance());
        for (int round = 0; round < 2; round++) {
            long start = System.nanoTime();
            for (int i = 0; i < 1000; i++) {
                SignedJWT.parse(assertion).verify(verifier);
            }
            System.out.printf("MEASURED one ES384 verification (BouncyCastle, this JVM, one thread): %.2f ms%n",
                    (System.nanoTime() - start) / 1e6 / 1000);
        }
    }

    /** Sends bodies[from, to) from {@link #THREADS} threads; returns how many were not answered 200. */
    private int send(HttpClient client, ExecutorService pool, String[] bodies, int from, int to) throws Exception {
        AtomicInteger next = new AtomicInteger(from);
        AtomicInteger refused = new AtomicInteger();
        List<Future<?>> workers = new java.util.ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            workers.add(pool.submit(() -> {
                int i;
                while ((i = next.getAndIncrement()) < to) {
                    HttpResponse<Void> response = client.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/token"))
                            .header("Content-Type", "application/x-www-form-urlencoded")
                            .POST(HttpRequest.BodyPublishers.ofString(bodies[i])).build(), HttpResponse.BodyHandlers.discarding());
                    if (response.statusCode() != 200) {
                        refused.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> worker : workers) {
            worker.get();
        }
        return refused.get();
    }
}
