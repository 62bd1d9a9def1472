package health.carapace.records.internal;

import health.carapace.access.Caller;
import health.carapace.access.CareRelationships;
import health.carapace.access.Interaction;
import health.carapace.access.Permissions;
import health.carapace.access.RecordAccess;
import health.carapace.audit.AuditContext;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestPolicy;
import java.net.InetAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Arrays;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Measures (does not assert) what enforcement adds to a request: the metadata lookup, the policy
 * decisions with the caller's relation, the scope of a search and the view:ssn question, in
 * process against the real database and policy; and whole HTTPS reads for context. Excluded from
 * the normal build; run with {@code ./mvnw -q -pl carapace-server -am test
 * -Dcarapace.test.excluded-groups=none -Dtest=EnforcementOverheadMeasurement
 * -Dsurefire.failIfNoSpecifiedTests=false} and read the lines starting "MEASURED".
 */
@Tag("measurement")
class EnforcementOverheadMeasurement extends IntegrationTest {

    private static final int ITERATIONS = Integer.getInteger("iterations", 20_000);
    private static volatile boolean sink;

    @Autowired
    RecordStore store;

    @Autowired
    RecordAccess access;

    @Autowired
    CareRelationships relationships;

    @Test
    void measure() throws Exception {
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"active\":true}")));
        String id = fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
        UUID uuid = UUID.fromString(id);
        var clinician = client("measure-clinician", TestPolicy.CLINICIAN);
        relationships.assign(clinician.clientId(), "Patient/" + id, "measure", AuditContext.none());
        Caller system = new Caller("measure-system", Caller.Kind.SERVICE_CLIENT, Set.of(TestPolicy.EVERYTHING), null);
        Caller scoped = new Caller(clinician.clientId(), Caller.Kind.SERVICE_CLIENT, Set.of(TestPolicy.CLINICIAN), null);
        InetAddress loopback = InetAddress.getByName("127.0.0.1");

        for (Caller caller : new Caller[] {system, scoped}) {
            String who = caller == system ? "all-patients" : "care-scoped";
            report("read decision (row load + decide + view:ssn), " + who, () -> {
                var loaded = store.load("Patient", uuid, null).orElseThrow();
                boolean allowed = access.decide(caller, Interaction.READ, "Patient", null, loaded.row().compartment(),
                        loopback, Instant.now()).allowed();
                sink = access.grants(caller, Permissions.VIEW_SSN, loopback, Instant.now());
                return allowed;
            });
            report("search scope (scope + view:ssn), " + who, () -> !access.scope(caller, Interaction.SEARCH,
                    "Observation", null, true, loopback, Instant.now()).empty()
                    & (sink = access.grants(caller, Permissions.VIEW_SSN, loopback, Instant.now())) | true);
        }
        String token = token();
        String clinicianToken = tokenFor(clinician.clientId(), clinician.clientSecret());
        for (String[] who : new String[][] {{"all-patients", token}, {"care-scoped", clinicianToken}}) {
            report("HTTPS read, " + who[0], 2_000, () -> sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient/" + id))
                    .header("Authorization", "Bearer " + who[1]).GET()).statusCode() == 200);
        }
    }

    private static void report(String what, Supplier<Boolean> step) {
        report(what, ITERATIONS, step);
    }

    private static void report(String what, int iterations, Supplier<Boolean> step) {
        for (int i = 0; i < Math.min(2_000, iterations); i++) {
            step.get(); // warm up
        }
        long[] nanos = new long[iterations];
        for (int i = 0; i < iterations; i++) {
            long start = System.nanoTime();
            if (!step.get()) {
                throw new IllegalStateException("unexpected decision while measuring " + what);
            }
            nanos[i] = System.nanoTime() - start;
        }
        Arrays.sort(nanos);
        System.out.printf("MEASURED %s: n=%d p50=%.1f us p99=%.1f us max=%.1f us%n", what, iterations,
                nanos[iterations / 2] / 1e3, nanos[(int) (iterations * 0.99)] / 1e3, nanos[iterations - 1] / 1e3);
    }
}
