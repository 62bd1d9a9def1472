package health.carapace.bench;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Builds the HTTP request for each operation. Everything that can be prepared is prepared up
 * front (URIs of the seeded records, body templates, the encoded ids), so that building a request
 * under load is an array lookup, at most one small byte copy, and the request builder.
 */
final class FhirRequests {

    static final String FHIR_JSON = "application/fhir+json";
    /** Distinct bodies per resource type; each create still carries its own MRN. */
    static final int TEMPLATE_POOL_SIZE = 4096;
    private static final long MRN_INDEX_LIMIT = 10_000_000L;

    private final String base;
    private final Duration timeout;
    private final AccessTokens tokens;
    private final SyntheticData data;
    private final SyntheticData.PatientTemplate[] patientTemplates;
    private final SyntheticData.ObservationTemplate[] observationTemplates;
    private final AtomicLong patientsCreated = new AtomicLong();
    private final AtomicLong observationsCreated = new AtomicLong();

    /** Prepared from the dataset once it is seeded; until then only creating patients works. */
    private volatile Prepared prepared;
    private volatile BackendAssertions assertions;
    private volatile URI tokenEndpoint;

    private record Prepared(URI[] reads, URI[] identifierSearches, URI[] observationSearches, byte[][] patientIds,
            byte[][] updatePrefixes, byte[][] mrns) {}

    /** How every patient template starts; an update puts the id after it. */
    private static final byte[] PATIENT_START = "{\"resourceType\":\"Patient\",".getBytes(StandardCharsets.US_ASCII);
    private final AtomicLong patientsUpdated = new AtomicLong();

    /** @param base the FHIR base URL, e.g. {@code https://localhost:8443/fhir} */
    FhirRequests(URI base, Duration timeout, AccessTokens tokens, SyntheticData data) {
        String text = base.toString();
        this.base = text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
        this.timeout = timeout;
        this.tokens = tokens;
        this.data = data;
        this.patientTemplates = new SyntheticData.PatientTemplate[TEMPLATE_POOL_SIZE];
        this.observationTemplates = new SyntheticData.ObservationTemplate[TEMPLATE_POOL_SIZE];
        for (int i = 0; i < TEMPLATE_POOL_SIZE; i++) {
            patientTemplates[i] = data.patientTemplate(SyntheticData.Stream.CREATED, i);
            observationTemplates[i] = data.observationTemplate(SyntheticData.Stream.CREATED, i);
        }
    }

    String base() {
        return base;
    }

    void use(Dataset dataset) {
        List<Dataset.SeededPatient> patients = dataset.patients();
        int n = patients.size();
        URI[] reads = new URI[n];
        URI[] identifierSearches = new URI[n];
        URI[] observationSearches = new URI[n];
        byte[][] ids = new byte[n][];
        byte[][] updatePrefixes = new byte[n][];
        byte[][] mrns = new byte[n][];
        for (int i = 0; i < n; i++) {
            Dataset.SeededPatient patient = patients.get(i);
            reads[i] = readPatient(patient.id());
            identifierSearches[i] = searchPatientByIdentifier(patient.mrn());
            observationSearches[i] = searchObservationsByPatient(patient.id());
            ids[i] = patient.id().getBytes(StandardCharsets.US_ASCII);
            updatePrefixes[i] = ("{\"resourceType\":\"Patient\",\"id\":" + SyntheticData.quote(patient.id()) + ",")
                    .getBytes(StandardCharsets.UTF_8);
            mrns[i] = patient.mrn().getBytes(StandardCharsets.US_ASCII);
        }
        prepared = new Prepared(reads, identifierSearches, observationSearches, ids, updatePrefixes, mrns);
    }

    HttpRequest build(Operation operation, SplittableRandom random) {
        return switch (operation) {
            case CREATE_PATIENT -> post("Patient", nextPatientBody());
            case READ_PATIENT -> get(pick(ready().reads(), random));
            case SEARCH_PATIENT_BY_IDENTIFIER -> get(pick(ready().identifierSearches(), random));
            case SEARCH_OBSERVATIONS_BY_PATIENT -> get(pick(ready().observationSearches(), random));
            case CREATE_OBSERVATION -> post("Observation", nextObservationBody(random));
            case ISSUE_BACKEND_TOKEN -> tokenRequest();
            case UPDATE_PATIENT -> {
                int patient = random.nextInt(ready().reads().length);
                yield put(ready().reads()[patient], nextUpdateBody(patient));
            }
        };
    }

    /** Signed client assertions and the token endpoint they name, for {@link Operation#ISSUE_BACKEND_TOKEN}. */
    void use(BackendAssertions assertions, URI tokenEndpoint) {
        this.assertions = assertions;
        this.tokenEndpoint = tokenEndpoint;
    }

    private HttpRequest tokenRequest() {
        if (assertions == null) {
            throw new IllegalStateException("issue-backend-token needs --assertion-client-id and --assertion-key");
        }
        return HttpRequest.newBuilder(tokenEndpoint).timeout(timeout)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(assertions.next()))
                .build();
    }

    URI readPatient(String id) {
        return URI.create(base + "/Patient/" + id);
    }

    URI searchPatientByIdentifier(String mrn) {
        return URI.create(base + "/Patient?identifier="
                + URLEncoder.encode(SyntheticData.MRN_SYSTEM + "|" + mrn, StandardCharsets.UTF_8));
    }

    URI searchObservationsByPatient(String patientId) {
        return URI.create(base + "/Observation?patient=Patient/" + patientId);
    }

    HttpRequest get(URI uri) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", FHIR_JSON);
        authorize(builder);
        return builder.GET().build();
    }

    /** POST of a transaction or batch Bundle to the base URL. */
    HttpRequest postBundle(byte[] body) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base))
                .timeout(timeout.multipliedBy(10))
                .header("Accept", FHIR_JSON)
                .header("Content-Type", FHIR_JSON + "; charset=UTF-8")
                // the seeder reads only the entries' locations: the records it sent need not come back
                .header("Prefer", "return=minimal");
        authorize(builder);
        return builder.POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    }

    HttpRequest post(String type, byte[] body) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + "/" + type))
                .timeout(timeout)
                .header("Accept", FHIR_JSON)
                .header("Content-Type", FHIR_JSON + "; charset=UTF-8");
        authorize(builder);
        return builder.POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    }

    /** PUT of a whole resource (an update without If-Match: the last write wins, as most clients send it). */
    HttpRequest put(URI uri, byte[] body) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri)
                .timeout(timeout)
                .header("Accept", FHIR_JSON)
                .header("Content-Type", FHIR_JSON + "; charset=UTF-8");
        authorize(builder);
        return builder.PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    }

    /**
     * A new version of seeded patient {@code index}: its id and MRN (so that searching by it still
     * finds it) in a pooled template's other details, so each update really changes the record.
     */
    byte[] nextUpdateBody(int index) {
        Prepared ready = ready();
        SyntheticData.PatientTemplate template =
                patientTemplates[(int) (patientsUpdated.getAndIncrement() % TEMPLATE_POOL_SIZE)];
        byte[] before = template.beforeMrn();
        byte[] prefix = ready.updatePrefixes()[index];
        byte[] head = new byte[prefix.length + before.length - PATIENT_START.length];
        System.arraycopy(prefix, 0, head, 0, prefix.length);
        System.arraycopy(before, PATIENT_START.length, head, prefix.length, before.length - PATIENT_START.length);
        return concat(head, ready.mrns()[index], template.afterMrn());
    }

    private void authorize(HttpRequest.Builder builder) {
        String authorization = tokens.authorizationHeader();
        if (authorization != null) {
            builder.header("Authorization", authorization);
        }
    }

    /** A new patient under load: a pooled template around a fresh MRN, so no two creates share one. */
    byte[] nextPatientBody() {
        long n = patientsCreated.getAndIncrement() % MRN_INDEX_LIMIT;
        SyntheticData.PatientTemplate template = patientTemplates[(int) (n % TEMPLATE_POOL_SIZE)];
        return concat(template.beforeMrn(), data.mrn(SyntheticData.Stream.CREATED, n).getBytes(StandardCharsets.US_ASCII),
                template.afterMrn());
    }

    /** A new observation under load about a random seeded patient. */
    byte[] nextObservationBody(SplittableRandom random) {
        byte[][] patientIds = ready().patientIds();
        long n = observationsCreated.getAndIncrement();
        SyntheticData.ObservationTemplate template = observationTemplates[(int) (n % TEMPLATE_POOL_SIZE)];
        return concat(template.beforeSubjectId(), patientIds[random.nextInt(patientIds.length)],
                template.afterSubjectId());
    }

    private static URI pick(URI[] uris, SplittableRandom random) {
        return uris[random.nextInt(uris.length)];
    }

    private Prepared ready() {
        Prepared ready = prepared;
        if (ready == null) {
            throw new IllegalStateException("this operation needs a seeded dataset");
        }
        return ready;
    }

    /** One array with a known length: the request then carries Content-Length rather than chunks. */
    private static byte[] concat(byte[] a, byte[] b, byte[] c) {
        byte[] out = new byte[a.length + b.length + c.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        System.arraycopy(c, 0, out, a.length + b.length, c.length);
        return out;
    }
}
