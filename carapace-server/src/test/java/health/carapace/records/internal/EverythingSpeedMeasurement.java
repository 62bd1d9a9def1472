package health.carapace.records.internal;

import health.carapace.testing.IntegrationTest;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Measures (does not assert) {@code Patient/$everything} for a patient with 500 records under 8
 * concurrent clients, and a search with {@code _include}/{@code _revinclude}, over HTTPS against the
 * real server. Excluded from the normal build; run with {@code ./mvnw -q -pl carapace-server -am test
 * -Dcarapace.test.excluded-groups=none -Dtest=EverythingSpeedMeasurement
 * -Dsurefire.failIfNoSpecifiedTests=false} and read the lines starting "MEASURED".
 */
@Tag("measurement")
class EverythingSpeedMeasurement extends IntegrationTest {

    private static final int RECORDS = 500;
    private static final int CLIENTS = 8;
    private static final int REQUESTS_PER_CLIENT = Integer.getInteger("requests", 50);

    @Test
    void measure() throws Exception {
        String patient = created("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Speedy\"}]}");
        String practitioner = created("Practitioner", "{\"resourceType\":\"Practitioner\",\"active\":true}");
        for (int batch = 0; batch < RECORDS / 100; batch++) {
            StringBuilder bundle = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[");
            for (int i = 0; i < 100; i++) {
                String type = i % 5 == 0 ? "Condition" : "Observation";
                bundle.append(i == 0 ? "" : ",").append("{\"resource\":{\"resourceType\":\"").append(type)
                        .append("\",").append(type.equals("Observation") ? "\"status\":\"final\"," : "")
                        .append("\"code\":{\"text\":\"m").append(i).append("\"},\"subject\":{\"reference\":\"Patient/")
                        .append(patient).append("\"}").append(type.equals("Observation")
                                ? ",\"performer\":[{\"reference\":\"Practitioner/" + practitioner + "\"}]" : "")
                        .append("},\"request\":{\"method\":\"POST\",\"url\":\"").append(type).append("\"}}");
            }
            bundle.append("]}");
            HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir"))
                    .header("Content-Type", "application/fhir+json")
                    .POST(HttpRequest.BodyPublishers.ofString(bundle.toString())));
            if (response.statusCode() != 200) {
                throw new IllegalStateException("seeding failed: " + response.statusCode());
            }
        }
        token(); // warm the token cache before the clock runs
        for (String query : List.of("Patient/" + patient + "/$everything", "Patient/" + patient + "/$everything?_count=100",
                "Observation?patient=" + patient + "&_include=Observation:performer&_include=Observation:patient",
                "Patient?_id=" + patient + "&_revinclude=Condition:patient")) {
            run(query, 20, 1); // warm up
            List<Long> nanos = run(query, REQUESTS_PER_CLIENT, CLIENTS);
            Collections.sort(nanos);
            System.out.printf("MEASURED %s: %d requests, %d clients, p50 %.1f ms, p99 %.1f ms%n", query.replace(patient, "{id}"),
                    nanos.size(), CLIENTS, nanos.get(nanos.size() / 2) / 1e6, nanos.get((int) (nanos.size() * 0.99)) / 1e6);
        }
    }

    private List<Long> run(String query, int perClient, int clients) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<List<Long>>> futures = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                futures.add(pool.submit(() -> {
                    List<Long> times = new ArrayList<>();
                    var http = http();
                    for (int i = 0; i < perClient; i++) {
                        long start = System.nanoTime();
                        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri("/fhir/" + query))
                                .header("Authorization", "Bearer " + token()).GET().build(),
                                HttpResponse.BodyHandlers.ofString());
                        times.add(System.nanoTime() - start);
                        if (response.statusCode() != 200) {
                            throw new IllegalStateException("status " + response.statusCode());
                        }
                    }
                    return times;
                }));
            }
            List<Long> all = new ArrayList<>();
            for (Future<List<Long>> future : futures) {
                all.addAll(future.get());
            }
            return all;
        } finally {
            pool.shutdown();
        }
    }

    private String created(String type, String json) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir/" + type))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(json)));
        return fhir.newJsonParser().parseResource(response.body()).getIdElement().getIdPart();
    }
}
