package health.carapace.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import health.carapace.testing.Refusals;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.SmartAppBrowser;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Bulk Data $export end to end (issue #18 item 3) with a backend-services client that signs its
 * assertion with a key from its JWKS: kick-off (202 + Content-Location), polling (202 +
 * Retry-After), the manifest, each NDJSON file, ciphertext on disk (a canary name is never in
 * clear there, in the log or in the manifest), another client refused, DELETE, expiry.
 */
@org.junit.jupiter.api.extension.ExtendWith(org.springframework.boot.test.system.OutputCaptureExtension.class)
class BulkExportTest extends IntegrationTest {

    private static final java.time.Instant CLASS_BEGAN = java.time.Instant.now().minusSeconds(1);


    private ECKey key;
    private String clientId;
    private String canary;
    private String patientId;

    @BeforeEach
    void setUp() throws Exception {
        key = new ECKeyGenerator(Curve.P_384).keyID("k1").generate();
        clientId = serviceClients.createBackend("bulk", Set.of(TestPolicy.EVERYTHING), List.of("system/*.rs"),
                new JWKSet(key.toPublicJWK()).toString(), null);
        canary = "Canary" + UUID.randomUUID().toString().replace("-", "");
        Patient patient = new Patient();
        patient.addName().setFamily(canary);
        patientId = fhirClient().create().resource(patient).execute().getId().getIdPart();
        Observation observation = new Observation();
        observation.setStatus(Observation.ObservationStatus.FINAL);
        observation.getCode().setText(canary + " pulse");
        observation.setSubject(new Reference("Patient/" + patientId));
        fhirClient().create().resource(observation).execute();
    }

    private String backendToken(String scope) throws Exception {
        Instant now = Instant.now();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES384).keyID("k1").type(JOSEObjectType.JWT).build(),
                new JWTClaimsSet.Builder().issuer(clientId).subject(clientId).audience(baseUrl() + "/oauth2/token")
                        .expirationTime(Date.from(now.plusSeconds(240))).jwtID(UUID.randomUUID().toString()).build());
        jwt.sign(new ECDSASigner(key));
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "client_credentials");
        form.put("scope", scope);
        form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.put("client_assertion", jwt.serialize());
        HttpResponse<String> response = sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(SignInBrowser.form(form))));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return (String) SmartAppBrowser.json(response).get("access_token");
    }

    private HttpResponse<String> get(String url, String bearer, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(java.net.URI.create(url)).header("Authorization", "Bearer " + bearer);
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return sendWithoutToken(request.GET());
    }

    @Test
    void aBackendServiceExportsEveryPatientEncryptedAtRestAndOnlyItDownloadsIt(
            org.springframework.boot.test.system.CapturedOutput log) throws Exception {
        String token = backendToken("system/*.rs");
        // since this class began: records other test classes left in the shared database (one of
        // them tampers with ciphertext on purpose) are not this test's to export
        HttpResponse<String> kickOff = get(fhirBase() + "/$export?_type=Patient,Observation&_since=" + CLASS_BEGAN, token,
                "Prefer", "respond-async", "Accept", "application/fhir+json");
        assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
        String status = kickOff.headers().firstValue("Content-Location").orElseThrow();
        assertThat(status).startsWith(baseUrl() + "/export/jobs/");

        HttpResponse<String> done = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> get(status, token), r -> r.statusCode() != 202 || r.headers().firstValue("Retry-After").isEmpty());
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        Map<String, Object> manifest = SmartAppBrowser.json(done);
        assertThat(manifest.get("requiresAccessToken")).isEqualTo(true);
        assertThat(done.body()).doesNotContain(canary).doesNotContain(patientId);
        List<?> output = (List<?>) manifest.get("output");
        assertThat(output).isNotEmpty();
        StringBuilder all = new StringBuilder();
        for (Object entry : output) {
            String url = (String) ((Map<?, ?>) entry).get("url");
            HttpResponse<String> file = get(url, token);
            assertThat(file.statusCode()).isEqualTo(200);
            assertThat(file.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+ndjson");
            for (String line : file.body().split("\n")) {
                assertThat(line).startsWith("{\"resourceType\":\"" + ((Map<?, ?>) entry).get("type") + "\"");
            }
            all.append(file.body());
            // Another client cannot poll or download it, and learns nothing (404 as for no job).
            String other = tokenWithRoles("other-" + UUID.randomUUID(), TestPolicy.EVERYTHING);
            assertThat(get(url, other).statusCode()).isEqualTo(404);
            assertThat(get(status, other).statusCode()).isEqualTo(404);
        }
        assertThat(all.toString()).contains(canary).contains("\"id\":\"" + patientId + "\"");

        // On disk: ciphertext only.
        Path exports = TestInstallation.dataDir().resolve("exports");
        try (Stream<Path> files = Files.walk(exports)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertThat(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1)).doesNotContain(canary)
                        .doesNotContain("resourceType");
            }
        }
        // Nor in the log.
        assertThat(log.getAll()).doesNotContain(canary);
        // The export of each patient is audited.
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from audit.event where patient = ? and actor = ?").params("Patient/" + patientId, clientId).query(Long.class).single())
                .isEqualTo(1);

        // DELETE removes it: status and files are gone, and the files leave the disk.
        String jobId = status.substring(status.lastIndexOf('/') + 1);
        HttpResponse<String> deleted = sendWithoutToken(HttpRequest.newBuilder(java.net.URI.create(status))
                .header("Authorization", "Bearer " + token).DELETE());
        assertThat(deleted.statusCode()).isEqualTo(202);
        assertThat(get(status, token).statusCode()).isEqualTo(404);
        await().atMost(Duration.ofSeconds(20)).until(() -> !Files.exists(exports.resolve(jobId)));
    }

    /**
     * Review F5 rest: crypto-shredding a patient fails every export that may hold their records,
     * destroying its key in the shredding's own transaction; its files leave the disk.
     */
    @Test
    void shreddingAPatientFailsTheExportsHoldingTheirRecordsAndDestroysTheirKeys(
            @org.springframework.beans.factory.annotation.Autowired health.carapace.disposal.Shredding shredding)
            throws Exception {
        String token = backendToken("system/*.rs");
        HttpResponse<String> kickOff = get(fhirBase() + "/Patient/$export?_type=Patient&_since=" + CLASS_BEGAN, token,
                "Prefer", "respond-async");
        assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
        String status = kickOff.headers().firstValue("Content-Location").orElseThrow();
        assertThat(await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> get(status, token), r -> r.statusCode() != 202).statusCode()).isEqualTo(200);
        UUID jobId = UUID.fromString(status.substring(status.lastIndexOf('/') + 1));
        Path dir = TestInstallation.dataDir().resolve("exports").resolve(jobId.toString());
        assertThat(dir).isDirectory();

        var request = shredding.request(new health.carapace.disposal.Shredding.Origin("export-shred-a",
                health.carapace.audit.AuditContext.none(), null), patientId, "RET-EXPORT-1");
        shredding.approve(new health.carapace.disposal.Shredding.Origin("export-shred-b",
                health.carapace.audit.AuditContext.none(), null), request.id());

        JdbcClient db = JdbcClient.create(dataSource);
        assertThat(db.sql("select wrapped_key is null from export.job where id = ?").param(jobId).query(Boolean.class)
                .single()).as("the key went with the shredding").isTrue();
        HttpResponse<String> failed = get(status, token);
        assertThat(failed.statusCode()).isEqualTo(500);
        assertThat(failed.body()).contains("OperationOutcome").doesNotContain(patientId).doesNotContain(canary);
        await().atMost(Duration.ofSeconds(20)).until(() -> !Files.exists(dir));
    }

    /**
     * Issue #18 item 4: one record failing its integrity check (ciphertext moved from another row)
     * no longer fails the export: it is left out, audited, and reported in the manifest's
     * {@code error} as an OperationOutcome line naming its type only; everything else is exported.
     */
    @Test
    void aRecordFailingItsIntegrityCheckIsReportedAsAnErrorAndTheExportCompletes() throws Exception {
        Observation second = new Observation();
        second.setStatus(Observation.ObservationStatus.FINAL);
        second.getCode().setText(canary + " tampered");
        second.setSubject(new Reference("Patient/" + patientId));
        String tamperedId = fhirClient().create().resource(second).execute().getId().getIdPart();
        String url = TestInstallation.properties().get("carapace.db.url").toString();
        String move = "update phi.resource_version set ciphertext = (select ciphertext from phi.resource_version"
                + " where resource_id = ? and version = 1) where resource_id = ? and version = 1";
        byte[] original;
        try (java.sql.Connection owner = java.sql.DriverManager.getConnection(url, health.carapace.platform.dev.DevDatabase.OWNER, "")) {
            try (var read = owner.prepareStatement("select ciphertext from phi.resource_version where resource_id = ? and version = 1")) {
                read.setObject(1, UUID.fromString(tamperedId));
                var rows = read.executeQuery();
                rows.next();
                original = rows.getBytes(1);
            }
            try (var copy = owner.prepareStatement(move)) {
                copy.setObject(1, UUID.fromString(patientId));
                copy.setObject(2, UUID.fromString(tamperedId));
                assertThat(copy.executeUpdate()).isEqualTo(1);
            }
        }
        try {
            String token = backendToken("system/*.rs");
            HttpResponse<String> kickOff = get(fhirBase() + "/Patient/$export?_type=Patient,Observation&_since="
                    + CLASS_BEGAN, token, "Prefer", "respond-async");
            assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
            String status = kickOff.headers().firstValue("Content-Location").orElseThrow();
            HttpResponse<String> done = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .until(() -> get(status, token), r -> r.statusCode() != 202);
            assertThat(done.statusCode()).as("the export completes").isEqualTo(200);
            Map<String, Object> manifest = SmartAppBrowser.json(done);
            List<?> errors = (List<?>) manifest.get("error");
            assertThat(errors).hasSize(1);
            Map<?, ?> error = (Map<?, ?>) errors.get(0);
            assertThat(error.get("type")).isEqualTo("OperationOutcome");
            HttpResponse<String> errorFile = get((String) error.get("url"), token);
            assertThat(errorFile.statusCode()).isEqualTo(200);
            assertThat(errorFile.body().strip().split("\n")).hasSize(1).allSatisfy(line -> assertThat(line)
                    .startsWith("{\"resourceType\":\"OperationOutcome\"")
                    .contains("A Observation record failed its integrity check")
                    .doesNotContain(tamperedId).doesNotContain(patientId).doesNotContain(canary));
            StringBuilder output = new StringBuilder();
            for (Object entry : (List<?>) manifest.get("output")) {
                output.append(get((String) ((Map<?, ?>) entry).get("url"), token).body());
            }
            assertThat(output.toString()).contains("\"id\":\"" + patientId + "\"").contains(canary + " pulse")
                    .doesNotContain(tamperedId);
            assertThat(JdbcClient.create(dataSource).sql("select count(*) from audit.event where actor = ? and patient = ?"
                    + " and outcome = 'failure' and convert_from(body, 'UTF8') like ?")
                    .params(clientId, "Patient/" + patientId, "%integrity-check-failed%").query(Long.class).single())
                    .isEqualTo(1);
        } finally {
            try (java.sql.Connection owner = java.sql.DriverManager.getConnection(url, health.carapace.platform.dev.DevDatabase.OWNER, "");
                    var restore = owner.prepareStatement("update phi.resource_version set ciphertext = ? where resource_id = ? and version = 1")) {
                restore.setBytes(1, original);
                restore.setObject(2, UUID.fromString(tamperedId));
                restore.executeUpdate();
            }
        }
    }

    /**
     * Review F4: the status and the files are decided again for the client now (its roles' IP
     * range and time window, from this address), and each download is audited before it streams.
     */
    @Test
    void statusAndDownloadsAreDecidedNowAndEachDownloadIsAudited() throws Exception {
        String token = backendToken("system/*.rs");
        HttpResponse<String> kickOff = get(fhirBase() + "/$export?_type=Patient", token, "Prefer", "respond-async");
        assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
        String status = kickOff.headers().firstValue("Content-Location").orElseThrow();
        HttpResponse<String> done = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> get(status, token), r -> r.statusCode() != 202);
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        List<?> output = (List<?>) SmartAppBrowser.json(done).get("output");
        String url = (String) ((Map<?, ?>) output.get(0)).get("url");
        JdbcClient db = JdbcClient.create(dataSource);
        String exported = "select count(*) from audit.event where actor = ? and action = 'exported'";
        assertThat(db.sql(exported).param(clientId).query(Long.class).single()).isZero();
        assertThat(get(url, token).statusCode()).isEqualTo(200);
        assertThat(db.sql(exported).param(clientId).query(Long.class).single()).isEqualTo(1);

        // The client's role now only holds outside this address's range: nothing more is handed out.
        db.sql("update iam.service_client set roles = array[?] where client_id = ?").params(TestPolicy.REMOTE, clientId)
                .update();
        HttpResponse<String> refused = await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                .until(() -> get(status, token), r -> r.statusCode() == 403);
        assertThat(Refusals.outcomeOf(refused).getIssueFirstRep().getDiagnostics()).startsWith("Access denied: ");
        HttpResponse<String> download = get(url, token);
        assertThat(download.statusCode()).isEqualTo(403);
        assertThat(download.body()).doesNotContain(canary);
        assertThat(db.sql(exported).param(clientId).query(Long.class).single()).isEqualTo(1);
    }

    /**
     * Review F5: cancelling destroys the export's key in the same transaction, and the clean-up
     * goes by the job's status: its directory is deleted even when no file row names what is in it
     * (a part written but never committed).
     */
    @Test
    void cancellingDestroysTheKeyAndDeletesTheDirectoryWhateverTheFileRowsSay() throws Exception {
        String token = backendToken("system/Patient.rs");
        HttpResponse<String> kickOff = get(fhirBase() + "/$export?_type=Patient", token, "Prefer", "respond-async");
        assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
        String status = kickOff.headers().firstValue("Content-Location").orElseThrow();
        assertThat(await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> get(status, token), r -> r.statusCode() != 202).statusCode()).isEqualTo(200);
        UUID jobId = UUID.fromString(status.substring(status.lastIndexOf('/') + 1));
        Path dir = TestInstallation.dataDir().resolve("exports").resolve(jobId.toString());
        assertThat(dir).isDirectory();
        JdbcClient db = JdbcClient.create(dataSource);
        // what a node that died mid-part leaves: files on disk that no row names
        db.sql("delete from export.file where job_id = ?").param(jobId).update();

        HttpResponse<String> deleted = sendWithoutToken(HttpRequest.newBuilder(java.net.URI.create(status))
                .header("Authorization", "Bearer " + token).DELETE());
        assertThat(deleted.statusCode()).isEqualTo(202);
        assertThat(db.sql("select wrapped_key is null from export.job where id = ?").param(jobId).query(Boolean.class)
                .single()).as("the key is destroyed with the cancel").isTrue();
        await().atMost(Duration.ofSeconds(20)).until(() -> !Files.exists(dir));
    }

    /**
     * Review F6: a kick-off is decided (403 when the client may read none of the types asked),
     * audited when accepted, and a client has at most a few exports queued or running at once (429).
     */
    @Test
    void aKickOffIsDecidedAuditedAndCappedPerClient() throws Exception {
        String allowed = clientId;
        clientId = serviceClients.createBackend("bulk-demographics", Set.of(TestPolicy.DEMOGRAPHICS),
                List.of("system/*.rs"), new JWKSet(key.toPublicJWK()).toString(), null);
        String demographics = backendToken("system/*.rs");
        HttpResponse<String> refused = get(fhirBase() + "/$export?_type=Observation", demographics,
                "Prefer", "respond-async");
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
        assertThat(Refusals.outcomeOf(refused).getIssueFirstRep().getDiagnostics()).startsWith("Access denied: ");
        JdbcClient db = JdbcClient.create(dataSource);
        assertThat(db.sql("select count(*) from export.job where client_id = ?").param(clientId).query(Long.class)
                .single()).isZero();
        assertThat(db.sql("select count(*) from audit.event where actor = ? and action = 'denied'").param(clientId)
                .query(Long.class).single()).isEqualTo(1);

        clientId = allowed;
        String token = backendToken("system/*.rs");
        // exports of this client that a live worker holds (their heartbeat is fresh, so none is taken over)
        for (int i = 0; i < 3; i++) {
            db.sql("insert into export.job (id, client_id, client_address, level, types, request_url, status,"
                    + " wrapped_key, kek_id, created_at, heartbeat_at) values (?, ?, '127.0.0.1', 'system', '{}',"
                    + " 'https://x/fhir/$export', 'running', '\\x00', 'k', now(), now() + interval '1 hour')")
                    .params(UUID.randomUUID(), clientId).update();
        }
        HttpResponse<String> capped = get(fhirBase() + "/$export?_type=Patient", token, "Prefer", "respond-async");
        assertThat(capped.statusCode()).as(capped.body()).isEqualTo(429);
        db.sql("update export.job set status = 'failed', wrapped_key = null where client_id = ? and status = 'running'")
                .param(clientId).update();
        HttpResponse<String> accepted = get(fhirBase() + "/$export?_type=Patient", token, "Prefer", "respond-async");
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        assertThat(db.sql("select count(*) from audit.event where actor = ? and action = 'created'").param(clientId)
                .query(Long.class).single()).isEqualTo(1);
    }

    /**
     * Review F6: a patient is recorded as exported to a client only once one of their records
     * passed its decision: here the patient's only record in range is one the client may not read.
     */
    @Test
    void aPatientIsAuditedAsExportedOnlyWhenARecordOfTheirsPassesItsDecision() throws Exception {
        clientId = serviceClients.createBackend("bulk-demographics", Set.of(TestPolicy.DEMOGRAPHICS),
                List.of("system/*.rs"), new JWKSet(key.toPublicJWK()).toString(), null);
        String token = backendToken("system/*.rs");
        Instant since = Instant.now();
        Observation later = new Observation();
        later.setStatus(Observation.ObservationStatus.FINAL);
        later.getCode().setText("later");
        later.setSubject(new Reference("Patient/" + patientId));
        fhirClient().create().resource(later).execute();
        HttpResponse<String> kickOff = get(fhirBase() + "/Patient/$export?_type=Patient,Observation&_since=" + since,
                token, "Prefer", "respond-async");
        assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
        String status = kickOff.headers().firstValue("Content-Location").orElseThrow();
        assertThat(await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> get(status, token), r -> r.statusCode() != 202).statusCode()).isEqualTo(200);
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from audit.event where patient = ? and actor = ?")
                .params("Patient/" + patientId, clientId).query(Long.class).single()).isZero();
    }

    @Test
    void anExpiredExportIsDeletedFromDiskAndForgotten() throws Exception {
        String token = backendToken("system/Patient.rs");
        String since = Instant.now().minusSeconds(120).toString();
        HttpResponse<String> kickOff = get(fhirBase() + "/Patient/$export?_type=Patient&_since=" + since, token,
                "Prefer", "respond-async");
        assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
        String status = kickOff.headers().firstValue("Content-Location").orElseThrow();
        HttpResponse<String> done = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> get(status, token), r -> r.statusCode() != 202);
        assertThat(done.statusCode()).isEqualTo(200);
        assertThat(done.headers().firstValue("Expires")).isPresent();
        String jobId = status.substring(status.lastIndexOf('/') + 1);
        Path dir = TestInstallation.dataDir().resolve("exports").resolve(jobId);
        assertThat(dir).isDirectory();
        // The configured expiry (carapace.export.expiry) has passed: the worker deletes the files.
        JdbcClient.create(dataSource).sql("update export.job set expires_at = now() - interval '1 second' where id = ?")
                .param(UUID.fromString(jobId)).update();
        await().atMost(Duration.ofSeconds(20)).until(() -> !Files.exists(dir));
        assertThat(get(status, token).statusCode()).isEqualTo(404);
        assertThat(JdbcClient.create(dataSource).sql("select wrapped_key is null from export.job where id = ?")
                .param(UUID.fromString(jobId)).query(Boolean.class).single()).as("an expired export's key is destroyed")
                .isTrue();
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from export.file where job_id = ?")
                .param(UUID.fromString(jobId)).query(Long.class).single()).isZero();
    }

    @Test
    void badKickOffsAreRefusedWithAnOperationOutcomeAndStoreNothing() throws Exception {
        String token = backendToken("system/*.rs");
        long before = JdbcClient.create(dataSource).sql("select count(*) from export.job").query(Long.class).single();
        Map<String, Integer> refusals = new LinkedHashMap<>();
        refusals.put("/$export?_typeFilter=Observation%3Fpatient%3DNonsense", 400); // not servable (ADR 0027)
        refusals.put("/$export?_type=Nonsense", 400);
        refusals.put("/$export?_since=yesterday", 400);
        refusals.put("/$export?_outputFormat=text/csv", 400);
        refusals.put("/$export?_elements=id", 400);
        for (var refusal : refusals.entrySet()) {
            HttpResponse<String> answer = get(fhirBase() + refusal.getKey(), token, "Prefer", "respond-async");
            assertThat(answer.statusCode()).as(refusal.getKey()).isEqualTo(refusal.getValue());
            assertThat(Refusals.outcomeOf(answer).getIssue()).isNotEmpty();
            assertThat(answer.body()).doesNotContain("Nonsense").doesNotContain("yesterday").doesNotContain("text/csv");
        }
        assertThat(get(fhirBase() + "/$export", token).statusCode()).as("without Prefer").isEqualTo(400);
        // A person, or a client without a token, cannot start one.
        assertThat(sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/$export")).header("Prefer", "respond-async").GET())
                .statusCode()).isEqualTo(401);
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from export.job").query(Long.class).single())
                .isEqualTo(before);
        // Unknown jobs and files, and names that are not ours: 404.
        assertThat(get(baseUrl() + "/export/jobs/" + UUID.randomUUID(), token).statusCode()).isEqualTo(404);
        assertThat(get(baseUrl() + "/export/files/" + UUID.randomUUID() + "/..%2F..%2Fetc", token).statusCode())
                .isIn(400, 404);
    }
}
