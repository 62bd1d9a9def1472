package health.carapace.reliability;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;

/**
 * Closed-loop clients of a mixed workload (create and update Patients, create Observations,
 * read, search) that record in an {@link AcknowledgedLog} exactly what the server acknowledged.
 * Each client updates only the patients it created, with {@code If-Match}; a patient whose
 * last request got no answer is dropped from its updates (the write may or may not have
 * happened), while its last acknowledged version stays in the log to be checked.
 */
final class MixedLoad {

    static final FhirContext FHIR = FhirContext.forR4Cached();
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

    private final URI fhirBase;
    private final HttpClient http;
    private final String token;
    private final AcknowledgedLog log;
    private final String family;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong sequence;
    private final Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
    private final AtomicLong unanswered = new AtomicLong();
    private final List<Thread> clients = new ArrayList<>();

    MixedLoad(URI base, HttpClient http, String token, AcknowledgedLog log, String family, AtomicLong sequence) {
        this.fhirBase = base.resolve("/fhir/");
        this.http = http;
        this.token = token;
        this.log = log;
        this.family = family;
        this.sequence = sequence;
    }

    void start(int clientCount, long seed) {
        for (int i = 0; i < clientCount; i++) {
            SplittableRandom random = new SplittableRandom(seed + i);
            Thread client = new Thread(() -> runClient(random), "crash-load-" + i);
            client.setDaemon(true);
            clients.add(client);
            client.start();
        }
    }

    /** Stops the clients; a request still in flight ends with the connection or its timeout. */
    void stop() throws InterruptedException {
        running.set(false);
        for (Thread client : clients) {
            client.join(REQUEST_TIMEOUT.toMillis() * 3);
        }
    }

    Map<Integer, Long> statuses() {
        Map<Integer, Long> copy = new java.util.TreeMap<>();
        statuses.forEach((status, count) -> copy.put(status, count.get()));
        return copy;
    }

    long unanswered() {
        return unanswered.get();
    }

    private record Owned(String id, int version) {
    }

    private void runClient(SplittableRandom random) {
        List<Owned> patients = new ArrayList<>();
        while (running.get()) {
            int pick = random.nextInt(100);
            if (patients.isEmpty() || pick < 25) {
                createPatient().ifPresent(patients::add);
            } else {
                int index = random.nextInt(patients.size());
                Owned patient = patients.get(index);
                if (pick < 50) {
                    var updated = updatePatient(patient);
                    if (updated.isPresent()) {
                        patients.set(index, updated.get());
                    } else {
                        patients.remove(index);
                    }
                } else if (pick < 65) {
                    createObservation(patient.id());
                } else if (pick < 85) {
                    get("Patient/" + patient.id());
                } else if (pick < 95) {
                    get("Observation?subject=Patient/" + patient.id());
                } else {
                    get("Patient?family=" + family + "&_count=5");
                }
            }
        }
    }

    private String marker() {
        return "m" + sequence.incrementAndGet();
    }

    static Patient patient(String family, String marker) {
        Patient p = new Patient();
        p.addName().setFamily(family).addGiven(marker);
        p.setBirthDate(new java.util.GregorianCalendar(1970, java.util.Calendar.JANUARY, 1).getTime());
        return p;
    }

    private java.util.Optional<Owned> createPatient() {
        String marker = marker();
        var response = send(request("Patient").POST(body(patient(family, marker))));
        return acknowledged(response, 201, "Patient", marker).map(w -> new Owned(w.id(), w.version()));
    }

    private java.util.Optional<Owned> updatePatient(Owned owned) {
        String marker = marker();
        Patient p = patient(family, marker);
        p.setId(owned.id());
        var response = send(request("Patient/" + owned.id()).header("If-Match", "W/\"" + owned.version() + "\"")
                .PUT(body(p)));
        return acknowledged(response, 200, "Patient", marker).map(w -> new Owned(w.id(), w.version()));
    }

    private void createObservation(String patientId) {
        String marker = marker();
        Observation o = new Observation();
        o.setStatus(Observation.ObservationStatus.FINAL);
        o.getCode().setText("crash-safety");
        o.setSubject(new Reference("Patient/" + patientId));
        o.setValue(new StringType(marker));
        acknowledged(send(request("Observation").POST(body(o))), 201, "Observation", marker);
    }

    private void get(String path) {
        var response = send(request(path).GET());
        if (response != null && response.statusCode() == 200) {
            log.phiResponse(response.headers().firstValue("X-Request-Id").orElse(null));
        }
    }

    private java.util.Optional<AcknowledgedLog.Write> acknowledged(HttpResponse<String> response, int expected,
            String type, String marker) {
        if (response == null || response.statusCode() != expected) {
            return java.util.Optional.empty();
        }
        Resource stored = (Resource) FHIR.newJsonParser().parseResource(response.body());
        var write = new AcknowledgedLog.Write(type, stored.getIdElement().getIdPart(),
                Integer.parseInt(stored.getMeta().getVersionId()), marker);
        log.write(write);
        log.phiResponse(response.headers().firstValue("X-Request-Id").orElse(null));
        return java.util.Optional.of(write);
    }

    /** A client whose server is down pauses instead of spinning on refused connections. */
    private static void backOff() {
        java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(fhirBase.resolve(path)).timeout(REQUEST_TIMEOUT)
                .header("Authorization", "Bearer " + token)
                .header("Accept", "application/fhir+json")
                .header("Content-Type", "application/fhir+json");
    }

    private static HttpRequest.BodyPublisher body(Resource resource) {
        IParser parser = FHIR.newJsonParser();
        return HttpRequest.BodyPublishers.ofString(parser.encodeResourceToString(resource));
    }

    /** The response, or null when none came (connection refused or reset, timeout). */
    private HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            statuses.computeIfAbsent(response.statusCode(), s -> new AtomicLong()).incrementAndGet();
            if (response.statusCode() >= 500) {
                backOff();
            }
            return response;
        } catch (IOException e) {
            unanswered.incrementAndGet();
            backOff();
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running.set(false);
            return null;
        }
    }
}
