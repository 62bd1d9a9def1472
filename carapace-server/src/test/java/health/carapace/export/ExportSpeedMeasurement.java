package health.carapace.export;

import com.nimbusds.jose.JOSEObjectType;
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
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.SmartAppBrowser;
import health.carapace.testing.TestPolicy;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

/**
 * Measures (does not assert) issue #18's export figures: a system {@code $export} of
 * {@code -Dexport.patients} patients (default 10,000) with 20 resources each (the Patient and 19
 * Observations) in resources per second, the server's heap while it runs, and how much it slows
 * interactive reads (4 clients reading random patients by id, before and during the export).
 * Excluded from the normal build; run with
 * {@code CI=true ./mvnw -q -o -pl carapace-server surefire:test@default-test -Dcarapace.test.excluded-groups=none
 * -Dtest=ExportSpeedMeasurement -Dsurefire.failIfNoSpecifiedTests=false [-Dexport.patients=N]} and read the
 * lines starting "MEASURED". The per-caller rate limit is raised: the test's one reader stands for many.
 */
@Tag("measurement")
@TestPropertySource(properties = {"carapace.rate-limit.requests-per-second=100000", "carapace.rate-limit.burst=100000"})
class ExportSpeedMeasurement extends IntegrationTest {

    private static final int PATIENTS = Integer.getInteger("export.patients", 10_000);
    private static final int OBSERVATIONS_PER_PATIENT = 19;
    private static final int PATIENTS_PER_BUNDLE = 5;
    private static final int READERS = 4;
    private static final Duration READ_WINDOW = Duration.ofSeconds(20);

    /** One client for every request of the measurement: kept-alive TLS connections, as a real client has. */
    private final java.net.http.HttpClient client = http();

    @Test
    void measure() throws Exception {
        Instant seededFrom = Instant.now().minusSeconds(1);
        List<String> patients = seed();
        String token = backendToken();
        token(); // the readers' token, before any clock runs

        Reads before = reads(patients, () -> false, READ_WINDOW);
        System.out.printf("MEASURED reads before the export: %d in %d s = %.0f/s, p50 %.1f ms, p99 %.1f ms%n",
                before.count(), READ_WINDOW.toSeconds(), before.perSecond(), before.p50(), before.p99());

        long heapBefore = heapUsedAfterGc();
        long started = System.nanoTime();
        HttpResponse<String> kickOff = get(fhirBase() + "/$export?_type=Patient,Observation&_since=" + seededFrom, token,
                "Prefer", "respond-async", "Accept", "application/fhir+json");
        if (kickOff.statusCode() != 202) {
            throw new IllegalStateException("kick-off refused: " + kickOff.statusCode());
        }
        String status = kickOff.headers().firstValue("Content-Location").orElseThrow();
        AtomicBoolean exportDone = new AtomicBoolean();
        long[] heapMax = {0};
        ExecutorService watcher = Executors.newSingleThreadExecutor();
        Future<HttpResponse<String>> manifest = watcher.submit(() -> {
            while (true) {
                heapMax[0] = Math.max(heapMax[0], ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
                HttpResponse<String> polled = get(status, token);
                if (polled.statusCode() != 202) {
                    exportDone.set(true);
                    return polled;
                }
                Thread.sleep(250); // the poll interval of a client; not waiting for a condition under test
            }
        });
        Reads during = reads(patients, exportDone::get, Duration.ofHours(2));
        HttpResponse<String> done = manifest.get();
        double seconds = (System.nanoTime() - started) / 1e9;
        watcher.shutdown();
        if (done.statusCode() != 200) {
            throw new IllegalStateException("export ended with " + done.statusCode());
        }
        long resources = 0;
        for (Object file : (List<?>) SmartAppBrowser.json(done).get("output")) {
            resources += ((Number) ((Map<?, ?>) file).get("count")).longValue();
        }
        System.out.printf("MEASURED export: %d resources of %d patients in %.1f s = %.0f resources/s%n", resources, PATIENTS,
                seconds, resources / seconds);
        System.out.printf("MEASURED heap used: %d MiB after a GC before the export, at most %d MiB while it ran%n",
                heapBefore >> 20, heapMax[0] >> 20);
        System.out.printf("MEASURED reads during the export: %d in %.0f s = %.0f/s (%.0f%% of before), p50 %.1f ms, p99 %.1f ms%n",
                during.count(), during.seconds(), during.perSecond(), 100 * during.perSecond() / before.perSecond(),
                during.p50(), during.p99());
    }

    /** The patients and their observations, as transaction Bundles of a few patients each, from two threads. */
    private List<String> seed() throws Exception {
        ConcurrentLinkedQueue<String> ids = new ConcurrentLinkedQueue<>();
        ExecutorService seeders = Executors.newFixedThreadPool(2);
        List<Future<?>> work = new ArrayList<>();
        long started = System.nanoTime();
        for (int bundle = 0; bundle < PATIENTS / PATIENTS_PER_BUNDLE; bundle++) {
            work.add(seeders.submit(() -> {
                StringBuilder body = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
                for (int p = 0; p < PATIENTS_PER_BUNDLE; p++) {
                    String patient = "urn:uuid:" + UUID.randomUUID();
                    body.append(p == 0 ? "" : ",").append("{\"fullUrl\":\"").append(patient)
                            .append("\",\"resource\":{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Export")
                            .append(p).append("\"}],\"gender\":\"female\",\"birthDate\":\"1970-01-01\"},")
                            .append("\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}");
                    for (int o = 0; o < OBSERVATIONS_PER_PATIENT; o++) {
                        body.append(",{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",")
                                .append("\"code\":{\"text\":\"pulse ").append(o).append("\"},\"subject\":{\"reference\":\"")
                                .append(patient).append("\"},\"valueQuantity\":{\"value\":").append(60 + o)
                                .append(",\"unit\":\"/min\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}");
                    }
                }
                body.append("]}");
                HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri("/fhir"))
                        .header("Authorization", "Bearer " + token()).header("Content-Type", "application/fhir+json")
                        .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() != 200) {
                    throw new IllegalStateException("seeding failed: " + response.statusCode());
                }
                // the patients' ids, from their entries' locations ("Patient/{id}/_history/1")
                for (String part : response.body().split("\"location\":\"")) {
                    if (part.startsWith("Patient/")) {
                        ids.add(part.substring("Patient/".length(), part.indexOf('/', "Patient/".length())));
                    }
                }
                return null;
            }));
        }
        for (Future<?> done : work) {
            done.get();
        }
        seeders.shutdown();
        System.out.printf("MEASURED seeding: %d patients with %d observations each in %.0f s%n", ids.size(),
                OBSERVATIONS_PER_PATIENT, (System.nanoTime() - started) / 1e9);
        return List.copyOf(ids);
    }

    private record Reads(int count, double seconds, List<Long> nanos) {
        double perSecond() {
            return count / seconds;
        }

        double p50() {
            return nanos.get(nanos.size() / 2) / 1e6;
        }

        double p99() {
            return nanos.get((int) (nanos.size() * 0.99)) / 1e6;
        }
    }

    /** Reads of random patients by id from {@link #READERS} clients, until {@code stop} or the window ends. */
    private Reads reads(List<String> patients, BooleanSupplier stop, Duration window) throws Exception {
        ConcurrentLinkedQueue<Long> nanos = new ConcurrentLinkedQueue<>();
        ExecutorService readers = Executors.newFixedThreadPool(READERS);
        long started = System.nanoTime();
        long end = started + window.toNanos();
        List<Future<?>> work = new ArrayList<>();
        for (int r = 0; r < READERS; r++) {
            work.add(readers.submit(() -> {
                while (!stop.getAsBoolean() && System.nanoTime() < end) {
                    String id = patients.get(ThreadLocalRandom.current().nextInt(patients.size()));
                    long t = System.nanoTime();
                    HttpResponse<String> read = client.send(HttpRequest.newBuilder(uri("/fhir/Patient/" + id))
                            .header("Authorization", "Bearer " + token()).GET().build(), HttpResponse.BodyHandlers.ofString());
                    if (read.statusCode() != 200) {
                        throw new IllegalStateException("read answered " + read.statusCode());
                    }
                    nanos.add(System.nanoTime() - t);
                }
                return null;
            }));
        }
        for (Future<?> done : work) {
            done.get();
        }
        readers.shutdown();
        double seconds = (System.nanoTime() - started) / 1e9;
        List<Long> sorted = new ArrayList<>(nanos);
        Collections.sort(sorted);
        return new Reads(sorted.size(), seconds, sorted);
    }

    private static long heapUsedAfterGc() {
        System.gc(); // a measurement's baseline, not a correctness wait
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private String backendToken() throws Exception {
        ECKey key = new ECKeyGenerator(Curve.P_384).keyID("k1").generate();
        String clientId = serviceClients.createBackend("export-speed", Set.of(TestPolicy.EVERYTHING), List.of("system/*.rs"),
                new JWKSet(key.toPublicJWK()).toString(), null);
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES384).keyID("k1").type(JOSEObjectType.JWT).build(),
                new JWTClaimsSet.Builder().issuer(clientId).subject(clientId).audience(baseUrl() + "/oauth2/token")
                        .expirationTime(Date.from(Instant.now().plusSeconds(240))).jwtID(UUID.randomUUID().toString()).build());
        jwt.sign(new ECDSASigner(key));
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "client_credentials");
        form.put("scope", "system/*.rs");
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", jwt.serialize());
        HttpResponse<String> response = sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(SignInBrowser.form(form))));
        if (response.statusCode() != 200) {
            throw new IllegalStateException("no backend token: " + response.statusCode());
        }
        return (String) SmartAppBrowser.json(response).get("access_token");
    }

    private HttpResponse<String> get(String url, String bearer, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + bearer);
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        try {
            return client.send(request.GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
