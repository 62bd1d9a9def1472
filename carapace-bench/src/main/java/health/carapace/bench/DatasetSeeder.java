package health.carapace.bench;

import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Creates the records the read and search workloads draw from: patients from the dataset
 * stream of {@link SyntheticData}, and a few observations for each, with bounded concurrency.
 * Then checks, once, that the server finds a seeded patient by MRN and its observations by
 * patient: a search workload that finds nothing would measure the wrong thing.
 */
final class DatasetSeeder {

    private static final Pattern LOCATION_ID = Pattern.compile("/([A-Za-z]+)/([A-Za-z0-9\\-.]{1,64})(?:/_history/[^/]+)?/?$");
    private static final Pattern BODY_ID = Pattern.compile("\"id\"\\s*:\\s*\"([A-Za-z0-9\\-.]{1,64})\"");

    private final HttpClient client;
    private final FhirRequests requests;
    private final SyntheticData data;
    private final int concurrency;
    private final PrintWriter progress;

    DatasetSeeder(HttpClient client, FhirRequests requests, SyntheticData data, int concurrency, PrintWriter progress) {
        this.client = client;
        this.requests = requests;
        this.data = data;
        this.concurrency = concurrency;
        this.progress = progress;
    }

    Dataset seed(int patientCount, int observationsPerPatient) throws InterruptedException {
        long started = System.nanoTime();
        progress.printf("seeding %,d patients and %,d observations...%n", patientCount,
                (long) patientCount * observationsPerPatient);
        progress.flush();
        List<String> ids = createAll(patientCount, i -> requests.post("Patient",
                data.patient(SyntheticData.Stream.DATASET, i).getBytes(StandardCharsets.UTF_8)), "Patient");
        List<Dataset.SeededPatient> patients = new ArrayList<>(patientCount);
        for (int i = 0; i < patientCount; i++) {
            patients.add(new Dataset.SeededPatient(ids.get(i), data.mrn(SyntheticData.Stream.DATASET, i)));
        }
        createAll(patientCount * observationsPerPatient, i -> requests.post("Observation",
                data.observation(SyntheticData.Stream.DATASET, i, ids.get(i / observationsPerPatient))
                        .getBytes(StandardCharsets.UTF_8)), "Observation");
        Dataset dataset = new Dataset(patients, observationsPerPatient);
        checkSearchesFind(dataset);
        progress.printf("seeded in %.1f s%n", (System.nanoTime() - started) / 1e9);
        progress.flush();
        return dataset;
    }

    private static final Pattern ENTRY_LOCATION = Pattern.compile("\"location\"\\s*:\\s*\"(Patient|Observation)/([A-Za-z0-9\\-.]{1,64})");

    /**
     * The same data set, sent as transaction Bundles of {@code batch} patients with their
     * observations (which reference their patient by the entry's {@code urn:uuid}), at most
     * {@code concurrency} Bundles at a time: one transaction per Bundle, through the server's
     * ordinary write path (access decision, encryption, blind indexes, audit). For data sets of
     * hundreds of thousands of patients, where one request per record would take hours.
     */
    Dataset seedInBatches(int patientCount, int observationsPerPatient, int batch) throws InterruptedException {
        long started = System.nanoTime();
        progress.printf("seeding %,d patients and %,d observations in transactions of %,d patients...%n", patientCount,
                (long) patientCount * observationsPerPatient, batch);
        progress.flush();
        int bundles = (patientCount + batch - 1) / batch;
        String[] patientIds = new String[patientCount];
        SortedMap<String, Long> failures = new TreeMap<>();
        Semaphore slots = new Semaphore(concurrency);
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (int b = 0; b < bundles; b++) {
            int first = b * batch;
            int last = Math.min(patientCount, first + batch);
            byte[] body = transaction(first, last, observationsPerPatient).getBytes(StandardCharsets.UTF_8);
            slots.acquire();
            pending.add(client.sendAsync(requests.postBundle(body), HttpResponse.BodyHandlers.ofString())
                    .whenComplete((response, failure) -> {
                        try {
                            if (failure != null) {
                                record(failures, OperationStats.describe(failure));
                            } else if (response.statusCode() != 200) {
                                record(failures, "HTTP " + response.statusCode());
                            } else {
                                List<String> created = patientsCreated(response.body());
                                if (created.size() != last - first) {
                                    record(failures, "a transaction response without every patient's location");
                                } else {
                                    for (int i = first; i < last; i++) {
                                        patientIds[i] = created.get(i - first);
                                    }
                                }
                            }
                        } finally {
                            slots.release();
                        }
                    }));
            if ((b + 1) % 100 == 0) {
                progress.printf("  %,d of %,d patients sent%n", last, patientCount);
                progress.flush();
            }
        }
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
        if (!failures.isEmpty()) {
            throw new BenchException("seeding in transactions failed: " + failures
                    + " (check the base URL, the credentials and the server's log)");
        }
        List<Dataset.SeededPatient> patients = new ArrayList<>(patientCount);
        for (int i = 0; i < patientCount; i++) {
            patients.add(new Dataset.SeededPatient(patientIds[i], data.mrn(SyntheticData.Stream.DATASET, i)));
        }
        Dataset dataset = new Dataset(patients, observationsPerPatient);
        checkSearchesFind(dataset);
        progress.printf("seeded in %.1f s%n", (System.nanoTime() - started) / 1e9);
        progress.flush();
        return dataset;
    }

    /** A transaction Bundle: patients {@code first} to {@code last} (exclusive), each followed by its observations. */
    String transaction(int first, int last, int observationsPerPatient) {
        StringBuilder bundle = new StringBuilder(4096 * (last - first))
                .append("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
        for (int i = first; i < last; i++) {
            String fullUrl = "urn:uuid:" + new java.util.UUID(0x5eed_0000_0000_0000L | i, i).toString();
            if (i > first) {
                bundle.append(',');
            }
            bundle.append("{\"fullUrl\":\"").append(fullUrl).append("\",\"resource\":")
                    .append(data.patient(SyntheticData.Stream.DATASET, i))
                    .append(",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}");
            for (int o = 0; o < observationsPerPatient; o++) {
                String marker = "seed-subject-" + i;
                String observation = data.observation(SyntheticData.Stream.DATASET, (long) i * observationsPerPatient + o, marker)
                        .replace("\"Patient/" + marker + "\"", "\"" + fullUrl + "\"");
                bundle.append(",{\"resource\":").append(observation)
                        .append(",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}");
            }
        }
        return bundle.append("]}").toString();
    }

    /** The ids of the patients a transaction response created, in entry order. */
    static List<String> patientsCreated(String transactionResponse) {
        List<String> ids = new ArrayList<>();
        Matcher location = ENTRY_LOCATION.matcher(transactionResponse == null ? "" : transactionResponse);
        while (location.find()) {
            if (location.group(1).equals("Patient")) {
                ids.add(location.group(2));
            }
        }
        return ids;
    }

    /** Sends {@code count} creates, at most {@code concurrency} at a time; returns the ids in order. */
    private List<String> createAll(int count, IntFunction<HttpRequest> request, String type) throws InterruptedException {
        String[] ids = new String[count];
        SortedMap<String, Long> failures = new TreeMap<>();
        Semaphore slots = new Semaphore(concurrency);
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            slots.acquire();
            int index = i;
            pending.add(client.sendAsync(request.apply(i), HttpResponse.BodyHandlers.ofString())
                    .whenComplete((response, failure) -> {
                        try {
                            if (failure != null) {
                                record(failures, OperationStats.describe(failure));
                            } else if (response.statusCode() != 201 && response.statusCode() != 200) {
                                record(failures, "HTTP " + response.statusCode());
                            } else {
                                Optional<String> id = createdId(response, type);
                                if (id.isPresent()) {
                                    ids[index] = id.get();
                                } else {
                                    record(failures, "no id in the create response");
                                }
                            }
                        } finally {
                            slots.release();
                        }
                    }));
        }
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
        if (!failures.isEmpty()) {
            throw new BenchException("seeding " + type + " failed: " + failures
                    + " (check the base URL, the credentials and the server's log)");
        }
        return List.of(ids);
    }

    private static synchronized void record(SortedMap<String, Long> failures, String kind) {
        failures.merge(kind, 1L, Long::sum);
    }

    /** The id the server assigned, from Location (RFC 9110) or, failing that, from the returned resource. */
    static Optional<String> createdId(HttpResponse<String> response, String type) {
        Optional<String> location = response.headers().firstValue("Location")
                .or(() -> response.headers().firstValue("Content-Location"));
        if (location.isPresent()) {
            Optional<String> id = idFromLocation(location.get(), type);
            if (id.isPresent()) {
                return id;
            }
        }
        Matcher body = BODY_ID.matcher(response.body() == null ? "" : response.body());
        return body.find() ? Optional.of(body.group(1)) : Optional.empty();
    }

    static Optional<String> idFromLocation(String location, String type) {
        String path = URI.create(location.trim()).getPath();
        Matcher matcher = LOCATION_ID.matcher(path == null ? "" : path);
        return matcher.find() && matcher.group(1).equals(type) ? Optional.of(matcher.group(2)) : Optional.empty();
    }

    private void checkSearchesFind(Dataset dataset) {
        Dataset.SeededPatient first = dataset.patients().get(0);
        String byIdentifier = getBody(requests.searchPatientByIdentifier(first.mrn()));
        if (!byIdentifier.contains(first.id())) {
            throw new BenchException("searching Patient by identifier did not find a patient just created;"
                    + " the search workload would measure empty results");
        }
        if (dataset.observationsPerPatient() > 0) {
            String observations = getBody(requests.searchObservationsByPatient(first.id()));
            if (!observations.contains("\"Observation\"")) {
                throw new BenchException("searching Observation by patient found none of the patient's observations");
            }
        }
    }

    private String getBody(URI uri) {
        HttpResponse<String> response = client.sendAsync(requests.get(uri), HttpResponse.BodyHandlers.ofString()).join();
        if (response.statusCode() != 200) {
            throw new BenchException("GET " + uri.getPath() + " answered " + response.statusCode());
        }
        return response.body();
    }
}
