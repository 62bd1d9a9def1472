package health.carapace.records.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.IMetricsTracker;
import com.zaxxer.hikari.pool.HikariPool;
import health.carapace.platform.logging.RequestIds;
import health.carapace.testing.IntegrationTest;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/**
 * {@code _include} and {@code _revinclude} cost at most one more database round trip per included
 * type (two per {@code _revinclude} source type: the ids by patient link, then the records), however
 * many records they bring (issue 17, Speed; ADR 0021). Counted, not timed: the PHI pool's connection
 * checkouts made on the request's own thread (tagged by its request id). A search runs outside any
 * transaction, so each of its statements is one checkout; the audit events go through the group
 * commit's own thread and are not counted. Each query is sent once to warm the caches (caller,
 * data keys), then counted, and compared with the same search without its includes.
 * {@link EverythingSpeedMeasurement} remains the timing measurement.
 */
class IncludeRoundTripsTest extends IntegrationTest {

    /** Checkouts of the PHI pool per request id, while a test of this class runs. */
    private static final Map<String, AtomicInteger> CHECKOUTS = new ConcurrentHashMap<>();
    /** The hook stays on the shared pool after this class; it counts only while this is set. */
    private static volatile boolean armed;
    private static boolean counting;

    private String patient;

    @BeforeEach
    void countCheckoutsPerRequest() {
        synchronized (IncludeRoundTripsTest.class) {
            if (!counting) {
                // the pool's own hook, on the thread that checks a connection out (the request's)
                HikariPool pool = (HikariPool) ((HikariDataSource) dataSource).getHikariPoolMXBean();
                pool.setMetricsTrackerFactory((name, stats) -> new IMetricsTracker() {
                    @Override
                    public void recordConnectionAcquiredNanos(long elapsedAcquiredNanos) {
                        String request = armed ? MDC.get(RequestIds.MDC_KEY) : null;
                        if (request != null) {
                            CHECKOUTS.computeIfAbsent(request, r -> new AtomicInteger()).incrementAndGet();
                        }
                    }
                });
                counting = true;
            }
        }
        armed = true;
    }

    @BeforeEach
    void aPatientWithRecordsByManyPractitionersAndOrganizations() {
        patient = created("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Roundtrips\"}]}");
        for (int i = 0; i < 6; i++) {
            String practitioner = created("Practitioner", "{\"resourceType\":\"Practitioner\",\"active\":true}");
            String organization = created("Organization", "{\"resourceType\":\"Organization\",\"active\":true}");
            created("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"r" + i
                    + "\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"performer\":[{\"reference\":"
                    + "\"Practitioner/" + practitioner + "\"},{\"reference\":\"Organization/" + organization + "\"}]}");
            created("Condition", "{\"resourceType\":\"Condition\",\"code\":{\"text\":\"c" + i + "\"},"
                    + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");
        }
    }

    @Test
    void eachIncludedTypeCostsOneRoundTripHoweverManyRecordsItBrings() {
        String search = "Observation?patient=" + patient;
        int alone = roundTrips(search, 6);

        // six practitioners and six organizations: two types, two statements
        assertThat(roundTrips(search + "&_include=Observation:performer", 18) - alone).isEqualTo(2);
        // one more target type (the patient)
        assertThat(roundTrips(search + "&_include=Observation:performer&_include=Observation:subject", 19) - alone)
                .isEqualTo(3);
        // a target type narrowed to one of the reference's types
        assertThat(roundTrips(search + "&_include=Observation:performer:Practitioner", 12) - alone).isEqualTo(1);
    }

    @Test
    void eachRevincludedTypeCostsTwoRoundTripsAndAnIteratedIncludeOneMorePerType() {
        String search = "Patient?_id=" + patient;
        int alone = roundTrips(search, 1);

        assertThat(roundTrips(search + "&_revinclude=Observation:patient", 7) - alone).isEqualTo(2);
        assertThat(roundTrips(search + "&_revinclude=Observation:patient&_revinclude=Condition:patient", 13) - alone)
                .isEqualTo(4);
        // the observations' performers, one level on: one statement per target type
        assertThat(roundTrips(search + "&_revinclude=Observation:patient&_include:iterate=Observation:performer", 19)
                - alone).isEqualTo(4);
    }

    /**
     * The checkouts of one request for {@code query}, after a first request that warms the caches;
     * the Bundle must hold {@code entries} entries (matches and includes), so that nothing is counted
     * for a search that brought less than it should.
     */
    private int roundTrips(String query, int entries) {
        get(query);
        HttpResponse<String> response = get(query);
        Bundle bundle = fhir.newJsonParser().parseResource(Bundle.class, response.body());
        assertThat(bundle.getEntry()).as(query).hasSize(entries);
        String request = response.headers().firstValue(RequestIds.HEADER).orElseThrow();
        AtomicInteger count = CHECKOUTS.remove(request);
        assertThat(count).as("checkouts counted for " + query).isNotNull();
        return count.get();
    }

    private HttpResponse<String> get(String query) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir/" + query)).GET());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return response;
    }

    private String created(String type, String json) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir/" + type))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(json)));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(response.body()).getIdElement().getIdPart();
    }

    @org.junit.jupiter.api.AfterEach
    void stopCounting() {
        armed = false;
        CHECKOUTS.clear();
    }
}
