package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

/**
 * Concurrent writes and the global lock order (ADR 0035): conditional writes of one type are
 * serialised, so parallel conditional creates or updates with the same criteria store exactly one
 * record, in single requests and in transactions; and transactions lock the records they change in
 * one order (type, id), so two that change the same patients in opposite entry orders both apply,
 * one after the other, instead of one dying as a deadlock victim.
 */
class ConcurrentWritesTest extends IntegrationTest {

    private static final int CLIENTS = 8;
    private static final int ROUNDS = 5;

    @Test
    void parallelConditionalCreatesWithTheSameIdentifierStoreExactlyOne() {
        String mrn = "MRN-" + Fakes.letters(10);
        String criteria = "identifier=" + enc("urn:zq:mrn|" + mrn);

        List<HttpResponse<String>> responses = inParallel(CLIENTS, i -> send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json").header("If-None-Exist", criteria)
                .POST(HttpRequest.BodyPublishers.ofString(patient(null, mrn, "Para" + i)))));

        assertThat(responses).extracting(HttpResponse::statusCode).containsOnlyOnce(201).containsOnly(201, 200);
        assertThat(responses).extracting(r -> idIn(r.headers().firstValue("Location").orElseThrow())).containsOnly(
                idIn(responses.stream().filter(r -> r.statusCode() == 201).findFirst().orElseThrow()
                        .headers().firstValue("Location").orElseThrow()));
        assertThat(search("Patient?" + criteria).getTotal()).isEqualTo(1);
    }

    @Test
    void parallelConditionalUpdatesWithTheSameIdentifierStoreExactlyOne() {
        String mrn = "MRN-" + Fakes.letters(10);
        String criteria = "identifier=" + enc("urn:zq:mrn|" + mrn);

        List<HttpResponse<String>> responses = inParallel(CLIENTS, i -> send(HttpRequest.newBuilder(
                        uri("/fhir/Patient?" + criteria))
                .header("Content-Type", "application/fhir+json")
                .PUT(HttpRequest.BodyPublishers.ofString(patient(null, mrn, "Para" + i)))));

        assertThat(responses).extracting(HttpResponse::statusCode).containsOnlyOnce(201).containsOnly(201, 200);
        Bundle found = search("Patient?" + criteria);
        assertThat(found.getTotal()).isEqualTo(1);
        // one create and CLIENTS - 1 updates of it, none lost
        assertThat(found.getEntryFirstRep().getResource().getMeta().getVersionId()).isEqualTo(Integer.toString(CLIENTS));
    }

    @Test
    void parallelTransactionsConditionallyCreatingOnePatientShareIt() {
        String mrn = "MRN-" + Fakes.letters(10);
        String urn = "urn:uuid:6d0c8a5e-2f1b-4e7a-9c3d-5b8f0a1e2d47";

        List<HttpResponse<String>> responses = inParallel(4, i -> transaction("{\"fullUrl\":\"" + urn + "\",\"resource\":"
                + patient(null, mrn, "Tx" + i) + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\",\"ifNoneExist\":\""
                + "identifier=" + enc("urn:zq:mrn|" + mrn) + "\"}},"
                + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"" + urn + "\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}"));

        assertThat(responses).allSatisfy(r -> assertThat(r.statusCode()).as(r.body()).isEqualTo(200));
        Bundle patients = search("Patient?identifier=" + enc("urn:zq:mrn|" + mrn));
        assertThat(patients.getTotal()).isEqualTo(1);
        String patient = patients.getEntryFirstRep().getResource().getIdElement().getIdPart();
        assertThat(search("Observation?patient=" + patient).getTotal()).isEqualTo(4);
    }

    @Test
    void transactionsChangingTheSamePatientsInOppositeOrdersBothApplyWithoutADeadlock() {
        String first = created(patient(null, "MRN-" + Fakes.letters(10), "Orda"));
        String second = created(patient(null, "MRN-" + Fakes.letters(10), "Ordb"));
        // records each transaction alone changes between the two shared ones: the window in which,
        // without one lock order, each would hold one shared patient and wait for the other
        List<String> leftOwn = new ArrayList<>();
        List<String> rightOwn = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            leftOwn.add(created(patient(null, "MRN-" + Fakes.letters(10), "Ordl")));
            rightOwn.add(created(patient(null, "MRN-" + Fakes.letters(10), "Ordr")));
        }
        for (int round = 0; round < ROUNDS; round++) {
            String name = "Round" + Fakes.letters(6);
            List<String> left = new ArrayList<>(List.of(first));
            left.addAll(leftOwn);
            left.add(second);
            List<String> right = new ArrayList<>(List.of(second));
            right.addAll(rightOwn);
            right.add(first);

            List<HttpResponse<String>> responses = inParallel(2, i -> transaction(updates(i == 0 ? left : right, name)));

            assertThat(responses).allSatisfy(r -> assertThat(r.statusCode()).as(r.body()).isEqualTo(200));
        }
        for (String id : List.of(first, second)) {
            HttpResponse<String> read = send(HttpRequest.newBuilder(uri("/fhir/Patient/" + id)).GET());
            assertThat(fhir.newJsonParser().parseResource(Patient.class, read.body()).getMeta().getVersionId())
                    .isEqualTo(Integer.toString(1 + 2 * ROUNDS));
        }
    }

    // --- helpers

    private static String patient(String id, String mrn, String family) {
        return "{\"resourceType\":\"Patient\"," + (id == null ? "" : "\"id\":\"" + id + "\",")
                + "\"identifier\":[{\"system\":\"urn:zq:mrn\",\"value\":\"" + mrn + "\"}],"
                + "\"name\":[{\"family\":\"" + family + "\"}]}";
    }

    private static String updates(List<String> ids, String family) {
        List<String> entries = new ArrayList<>();
        for (String id : ids) {
            entries.add("{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\""
                    + family + "\"}]},\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + id + "\"}}");
        }
        return String.join(",", entries);
    }

    private HttpResponse<String> transaction(String entries) {
        return send(HttpRequest.newBuilder(uri("/fhir")).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + entries + "]}")));
    }

    /** Sends {@code count} requests at once: every thread waits at one gate, then all go. */
    private <T> List<T> inParallel(int count, IntFunction<T> request) {
        token(); // one token for all, fetched before the gate opens
        ExecutorService threads = Executors.newFixedThreadPool(count);
        try {
            CountDownLatch gate = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int n = i;
                futures.add(threads.submit(() -> {
                    gate.await();
                    return request.apply(n);
                }));
            }
            gate.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> future : futures) {
                results.add(future.get(2, TimeUnit.MINUTES));
            }
            return results;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            threads.shutdownNow();
        }
    }

    private String created(String json) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(json)));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(response.body()).getIdElement().getIdPart();
    }

    private Bundle search(String path) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/fhir/" + path)).GET());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return fhir.newJsonParser().parseResource(Bundle.class, response.body());
    }

    private static String idIn(String location) {
        return location.replaceAll(".*/Patient/([^/]+).*", "$1");
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
