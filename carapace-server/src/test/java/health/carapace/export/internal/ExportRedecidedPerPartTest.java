package health.carapace.export.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import health.carapace.access.Caller;
import health.carapace.records.Compartment;
import health.carapace.records.RecordExport;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.SmartAppBrowser;
import health.carapace.testing.TestPolicy;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Review F9: an export's worker decides its client again before each part. A client disabled
 * while its export runs gets no later part: the patients after it are never read, the job fails,
 * its key goes at once and its files at the next clean-up, and its status is refused to the
 * client's old token. A client narrowed while its export runs gets later parts decided on its
 * roles as they are now. Parts of one patient each here (the server's are 500), and the export
 * walks this test's two patients only (the shared database holds every other test's); every
 * record is read, decided and written by the real components.
 */
class ExportRedecidedPerPartTest extends IntegrationTest {

    @Autowired
    private ExportJobs jobs;

    @Autowired
    private ExportKeys keys;

    @Autowired
    private RecordExport records;

    @Autowired
    private ExportConfiguration.ExportFilesHolder files;

    @Autowired
    private Clock clock;

    @Autowired
    private GroupMembership groups;

    private ECKey key;
    private String clientId;
    private Instant since;
    /** The two patients' canaries, by patient, in export order. */
    private final Map<Compartment, String> canaries = new LinkedHashMap<>();
    private final List<Compartment> exported = new CopyOnWriteArrayList<>();

    @BeforeEach
    void twoPatientsAndAClient() throws Exception {
        key = new ECKeyGenerator(Curve.P_384).keyID("k1").generate();
        clientId = serviceClients.createBackend("f9", Set.of(TestPolicy.EVERYTHING), List.of("system/*.rs"),
                new JWKSet(key.toPublicJWK()).toString(), null);
        since = Instant.now().minusSeconds(1);
        List<Compartment> patients = new ArrayList<>();
        Map<Compartment, String> byPatient = new LinkedHashMap<>();
        for (int i = 0; i < 2; i++) {
            String canary = "Canary" + UUID.randomUUID().toString().replace("-", "");
            Patient patient = new Patient();
            patient.addName().setFamily(canary);
            String id = fhirClient().create().resource(patient).execute().getId().getIdPart();
            Observation observation = new Observation();
            observation.setStatus(Observation.ObservationStatus.FINAL);
            observation.getCode().setText(canary + " pulse");
            observation.setSubject(new Reference("Patient/" + id));
            fhirClient().create().resource(observation).execute();
            Compartment compartment = Compartment.parse("Patient/" + id);
            patients.add(compartment);
            byPatient.put(compartment, canary);
        }
        patients.sort(java.util.Comparator.comparing(Compartment::toString));
        patients.forEach(p -> canaries.put(p, byPatient.get(p)));
    }

    @Test
    void aClientDisabledWhileItsExportRunsGetsNoLaterPartAndTheJobFails() throws Exception {
        String token = backendToken();
        UUID id = runningJob();

        worker(() -> serviceClients.disable(clientId, "f9-test")).work(jobs.find(id).orElseThrow());

        ExportJobs.Job job = jobs.find(id).orElseThrow();
        assertThat(job.status()).isEqualTo(ExportJobs.Status.FAILED);
        assertThat(job.wrappedKey()).as("the key went with the job").isNull();
        assertThat(exported).as("the second patient was never read").containsExactly(first());
        assertThat(exportAudited(second())).isZero();
        Path dir = files.files().directory().resolve(id.toString());
        assertThat(Files.exists(dir.resolve(ExportFiles.name(2, "Patient")))).isFalse();
        assertThat(Files.exists(dir.resolve(ExportFiles.name(2, "Observation")))).isFalse();

        new ExportWorker(jobs, keys, records, serviceClients, files.files(), clock, Duration.ofHours(1), groups).clean();
        assertThat(Files.exists(dir)).as("the first part's files, deleted").isFalse();
        assertThat(jobs.files(id)).isEmpty();

        // the client's token from before is dead: no status, no manifest, nothing echoed
        HttpResponse<String> status = sendWithoutToken(HttpRequest.newBuilder(URI.create(baseUrl() + "/export/jobs/" + id))
                .header("Authorization", "Bearer " + token).GET());
        assertThat(status.statusCode()).isEqualTo(401);
        assertThat(status.body()).doesNotContain(canaries.get(first())).doesNotContain(canaries.get(second()));
    }

    @Test
    void aClientNarrowedWhileItsExportRunsGetsLaterPartsDecidedOnItsRolesAsTheyAreNow() throws Exception {
        UUID id = runningJob();

        worker(() -> TestPolicy.grant(dataSource, clientId, TestPolicy.DEMOGRAPHICS)).work(jobs.find(id).orElseThrow());

        ExportJobs.Job job = jobs.find(id).orElseThrow();
        assertThat(job.status()).isEqualTo(ExportJobs.Status.COMPLETE);
        String plaintext = decryptedFiles(job);
        assertThat(plaintext).as("the first part, decided before").contains(canaries.get(first()) + " pulse");
        assertThat(plaintext).as("the second part, decided on the narrowed role")
                .doesNotContain(canaries.get(second()));
        // on disk, only ciphertext
        for (ExportJobs.OutputFile file : jobs.files(id)) {
            String raw = Files.readString(files.files().directory().resolve(id.toString()).resolve(file.name()),
                    StandardCharsets.ISO_8859_1);
            assertThat(raw).doesNotContain(canaries.get(first())).doesNotContain(canaries.get(second()));
        }
    }

    private Compartment first() {
        return canaries.keySet().iterator().next();
    }

    private Compartment second() {
        return new ArrayList<>(canaries.keySet()).get(1);
    }

    /**
     * A worker with parts of one patient, over this test's two patients; {@code betweenParts} runs
     * once the first patient is exported, before its part is committed: while the export runs.
     */
    private ExportWorker worker(Runnable betweenParts) {
        RecordExport theseTwo = new RecordExport() {
            @Override
            public List<Compartment> patients(Compartment after, int limit) {
                return canaries.keySet().stream()
                        .filter(p -> after == null || p.toString().compareTo(after.toString()) > 0)
                        .limit(limit).toList();
            }

            @Override
            public int export(Caller caller, InetAddress address, Instant at, Compartment patient, Set<String> types,
                    Instant exportSince, List<TypeFilter> filters, String jobReference, Consumer<Exported> sink) {
                throw new AssertionError("the worker exports parts");
            }

            @Override
            public int exportPart(Caller caller, InetAddress address, Instant at, List<Compartment> patients,
                    Set<String> types, Instant exportSince, List<TypeFilter> filters, String jobReference,
                    java.util.function.Predicate<Compartment> proceed, Consumer<Exported> sink) {
                // the real part export (its audit events recorded together when it is done)
                int count = records.exportPart(caller, address, at, patients, types, exportSince, filters, jobReference,
                        patient -> {
                            exported.add(patient);
                            return proceed.test(patient);
                        }, sink);
                if (patients.contains(first())) {
                    betweenParts.run();
                }
                return count;
            }

            @Override
            public GroupLookup group(Caller caller, InetAddress address, Instant at, UUID groupId) {
                return records.group(caller, address, at, groupId);
            }

            @Override
            public java.util.Optional<String> refusal(TypeFilter filter) {
                return records.refusal(filter);
            }
        };
        return new ExportWorker(jobs, keys, theseTwo, serviceClients, files.files(), clock, Duration.ofHours(1), groups, 1);
    }

    /**
     * A part's audit events are recorded together when the part is done, before it is committed: if
     * they cannot be written, the part is never committed, nothing becomes downloadable, the job
     * fails and its files go (fail closed, as a read without its durable audit event).
     */
    @Test
    void aPartWhoseAuditCannotBeWrittenIsNeverCommittedAndTheJobFails() throws Exception {
        UUID id = runningJob();
        String url = health.carapace.testing.TestInstallation.properties().get("carapace.db.url").toString();
        try (java.sql.Connection owner = java.sql.DriverManager.getConnection(url,
                health.carapace.platform.dev.DevDatabase.OWNER, "")) {
            owner.createStatement().execute("revoke insert on audit.event from "
                    + health.carapace.platform.dev.DevDatabase.PHI_ROLE);
            try {
                worker(() -> { }).work(jobs.find(id).orElseThrow());
            } finally {
                owner.createStatement().execute("grant insert on audit.event to "
                        + health.carapace.platform.dev.DevDatabase.PHI_ROLE);
            }
        }
        ExportJobs.Job job = jobs.find(id).orElseThrow();
        assertThat(job.status()).isEqualTo(ExportJobs.Status.FAILED);
        assertThat(job.part()).as("no part committed").isZero();
        assertThat(jobs.files(id)).as("nothing to download").isEmpty();
        assertThat(exportAudited(first())).isZero();
        new ExportWorker(jobs, keys, records, serviceClients, files.files(), clock, Duration.ofHours(1), groups).clean();
        assertThat(Files.exists(files.files().directory().resolve(id.toString()))).isFalse();
    }

    /** A system-level job for the client, running with a fresh heartbeat: no other worker claims it. */
    private UUID runningJob() throws Exception {
        UUID id = UUID.randomUUID();
        JdbcClient.create(dataSource).sql("""
                insert into export.job (id, client_id, app_scope, client_address, level, types, since, request_url, status,
                  wrapped_key, kek_id, part, patients_done, heartbeat_at, created_at)
                values (?, ?, ?, '127.0.0.1', 'system', ?, ?, 'https://localhost/fhir/$export', 'running', ?, ?, 0, 0, ?, ?)""")
                .params(id, clientId, new String[] {"system/*.rs"}, new String[] {"Patient", "Observation"},
                        Timestamp.from(since), keys.newWrappedKey(id), keys.kekId(), Timestamp.from(Instant.now()),
                        Timestamp.from(Instant.now()))
                .update();
        return id;
    }

    private String decryptedFiles(ExportJobs.Job job) throws Exception {
        StringBuilder all = new StringBuilder();
        for (ExportJobs.OutputFile file : jobs.files(job.id())) {
            Path path = files.files().directory().resolve(job.id().toString()).resolve(file.name());
            try (InputStream in = keys.open(job.id(), job.wrappedKey()).newDecryptingStream(Files.newInputStream(path),
                    ExportKeys.fileAssociatedData(job.id(), file.name()))) {
                all.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        return all.toString();
    }

    private long exportAudited(Compartment patient) {
        return JdbcClient.create(dataSource).sql("select count(*) from audit.event where patient = ? and actor = ?")
                .params(patient.toString(), clientId).query(Long.class).single();
    }

    private String backendToken() throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES384).keyID("k1").build(),
                new JWTClaimsSet.Builder().issuer(clientId).subject(clientId).audience(baseUrl() + "/oauth2/token")
                        .expirationTime(Date.from(Instant.now().plusSeconds(240))).jwtID(UUID.randomUUID().toString())
                        .build());
        jwt.sign(new ECDSASigner(key));
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "client_credentials");
        form.put("scope", "system/*.rs");
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", jwt.serialize());
        HttpResponse<String> response = sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(SignInBrowser.form(form))));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return (String) SmartAppBrowser.json(response).get("access_token");
    }
}
