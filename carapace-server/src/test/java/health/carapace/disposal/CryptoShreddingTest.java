package health.carapace.disposal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.crypto.KeyDestroyedException;
import health.carapace.crypto.RecordCipher;
import health.carapace.crypto.RecordIntegrityException;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Crypto-shredding under dual control: after two different administrators agreed, a patient's
 * data keys are gone from the keyring, the ciphertext stays but nothing decrypts it, every read
 * and write of the patient's records answers 410, and each step is in the audit trail.
 */
class CryptoShreddingTest extends IntegrationTest {

    private static final String MESSAGE = "destroyed by crypto-shredding";

    @Autowired
    private RecordCipher cipher;

    @Autowired
    private Shredding shredding;

    private final String url = TestInstallation.properties().get("carapace.db.url").toString();

    @Test
    void aShreddedPatientsCanaryIsUnrecoverableAndEveryReadAnswers410() throws Exception {
        String canary = "Shredcanary" + Fakes.letters(12);
        String patient = create("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + canary
                + "\"}],\"identifier\":[{\"system\":\"urn:canary\",\"value\":\"" + canary + "\"}]}");
        String observation = create("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\","
                + "\"code\":{\"text\":\"" + canary + "\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");
        String bystander = create("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Bystander\"}]}");
        assertThat(get("/fhir/Patient?identifier=urn:canary|" + canary).body()).contains(patient);
        assertThat(wrappedKeys(patient)).isPositive();

        String[] admins = {adminToken("keys-admin-a"), adminToken("keys-admin-b")};
        String requestId = requestShredding(admins[0], patient, "RET-2019-0042");
        HttpResponse<String> approved = post(admins[1], "/admin/keys/shredding/" + requestId + "/approve", "");
        assertThat(approved.statusCode()).isEqualTo(200);
        assertThat(approved.body()).contains("\"state\":\"executed\"");

        // The ciphertext is still there, but no data key for the patient is left in the keyring.
        List<Version> versions = versions("Patient/" + patient);
        assertThat(versions).hasSizeGreaterThanOrEqualTo(2);
        assertThat(versions).allSatisfy(v -> assertThat(new String(v.ciphertext(), StandardCharsets.ISO_8859_1))
                .doesNotContain(canary));
        assertThat(wrappedKeys(patient)).isZero();
        // No key can decrypt it: the patient's own is destroyed, and every data key that remains fails.
        for (Version v : versions) {
            assertThatThrownBy(() -> cipher.decrypt(v.compartment(), v.ciphertext(), v.associatedData()))
                    .isInstanceOf(KeyDestroyedException.class);
            for (String other : remainingCompartments()) {
                assertThatThrownBy(() -> cipher.decrypt(other, v.ciphertext(), v.associatedData()))
                        .as("data key of %s", other).isInstanceOf(RecordIntegrityException.class);
            }
        }
        // ... and nothing new is ever encrypted for the patient.
        assertThatThrownBy(() -> cipher.encrypt("Patient/" + patient, new byte[1], new byte[0]))
                .isInstanceOf(KeyDestroyedException.class);
        assertThat(wrappedKeys(patient)).isZero();

        for (String path : List.of("/fhir/Patient/" + patient, "/fhir/Patient/" + patient + "/_history/1",
                "/fhir/Patient/" + patient + "/_history", "/fhir/Observation/" + observation)) {
            HttpResponse<String> gone = get(path);
            assertThat(gone.statusCode()).as(path).isEqualTo(410);
            assertThat(gone.body()).as(path).contains("OperationOutcome").contains(MESSAGE).doesNotContain(canary);
        }
        Bundle search = fhir.newJsonParser().parseResource(Bundle.class,
                get("/fhir/Observation?subject=Patient/" + patient).body());
        assertThat(search.getEntry()).isEmpty();
        assertThat(get("/fhir/Patient?identifier=urn:canary|" + canary).body()).doesNotContain(patient);
        assertThat(blindIndexTokens(patient)).as("blind-index tokens of the shredded records").isZero();
        assertThat(get("/fhir/Patient/" + bystander).statusCode()).isEqualTo(200);

        HttpResponse<String> batch = post(token(), "/fhir", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
                + "{\"request\":{\"method\":\"GET\",\"url\":\"Patient/" + patient + "\"}},"
                + "{\"request\":{\"method\":\"GET\",\"url\":\"Patient/" + bystander + "\"}}]}");
        Bundle entries = fhir.newJsonParser().parseResource(Bundle.class, batch.body());
        assertThat(entries.getEntry().get(0).getResponse().getStatus()).startsWith("410");
        assertThat(entries.getEntry().get(1).getResponse().getStatus()).startsWith("200");

        // Writes to the compartment are refused: no new data key, nothing stored.
        HttpResponse<String> newObservation = post(token(), "/fhir/Observation", "{\"resourceType\":\"Observation\","
                + "\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");
        assertThat(newObservation.statusCode()).isEqualTo(410);
        assertThat(newObservation.body()).contains(MESSAGE);
        HttpResponse<String> update = send(HttpRequest.newBuilder(uri("/fhir/Patient/" + patient))
                .header("Content-Type", "application/fhir+json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\"}")));
        assertThat(update.statusCode()).isEqualTo(410);
        assertThat(send(HttpRequest.newBuilder(uri("/fhir/Patient/" + patient)).DELETE()).statusCode()).isEqualTo(410);
        assertThat(wrappedKeys(patient)).isZero();

        // The tombstone: when, which request, who — and no PHI.
        try (Connection c = DriverManager.getConnection(url, DevDatabase.OWNER, "");
                PreparedStatement s = c.prepareStatement("select request_id, requested_by, approved_by, shredded_at "
                        + "from phi.shredded_compartment where compartment = ?")) {
            s.setString(1, "Patient/" + patient);
            ResultSet rs = s.executeQuery();
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(requestId);
            assertThat(rs.getString(2)).isNotEqualTo(rs.getString(3));
            assertThat(rs.getTimestamp(4)).isNotNull();
        }
        // Audited: the request, the approval and the destruction of the keys.
        assertThat(auditedResources("Patient/" + patient)).contains("/admin/keys/shredding/" + requestId,
                "/admin/keys/shredding/" + requestId + "/approve", "/keyring/dek/Patient/" + patient);
    }

    @Test
    void otherReadPathsNeverShowAShreddedPatientNorMakeANewKey() throws Exception {
        String canary = "Canary" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String patient = create("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + canary
                + "\"}],\"identifier\":[{\"system\":\"urn:canary\",\"value\":\"" + canary + "\"}]}");
        String observation = create("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\","
                + "\"code\":{\"text\":\"" + canary + "\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");
        String requestId = requestShredding(adminToken("keys-admin-paths-a"), patient, "RET-PATHS-1");
        assertThat(post(adminToken("keys-admin-paths-b"), "/admin/keys/shredding/" + requestId + "/approve", "")
                .body()).contains("\"state\":\"executed\"");

        // type and server history since this test began, of Patients only: the shared test database
        // also holds Observations other tests (ReadsServeTheDecidedRowTest) tampered with on purpose,
        // which any history or search reaching them answers with 500 (integrity), as a read does
        String since = "?_since=" + java.time.Instant.now().minusSeconds(120);
        for (String path : List.of("/fhir/Patient?_id=" + patient, "/fhir/Observation?_id=" + observation
                        + "&_include=Observation:subject", "/fhir/Observation?subject=Patient/" + patient
                        + "&_include=Observation:subject", "/fhir/Patient/_history" + since,
                "/fhir/Patient/" + patient + "/$everything",
                "/fhir/Observation/" + observation + "/_history/1")) {
            HttpResponse<String> answer = get(path);
            assertThat(answer.statusCode()).as(path).isIn(200, 400, 404, 410);
            assertThat(answer.body()).as(path).doesNotContain(canary);
            if (answer.statusCode() == 200 && path.contains("?")) {
                Bundle found = fhir.newJsonParser().parseResource(Bundle.class, answer.body());
                assertThat(found.getEntry()).as(path).noneMatch(e -> e.getResource() != null
                        && (patient.equals(e.getResource().getIdElement().getIdPart())
                                || observation.equals(e.getResource().getIdElement().getIdPart())));
            }
        }
        HttpResponse<String> breakGlass = post(token(), "/fhir/$break-glass", "{\"resourceType\":\"Parameters\","
                + "\"parameter\":[{\"name\":\"patient\",\"valueReference\":{\"reference\":\"Patient/" + patient
                + "\"}},{\"name\":\"reason\",\"valueString\":\"unconscious in ER\"}]}");
        assertThat(breakGlass.statusCode()).as("break-glass on a shredded patient").isIn(403, 410);
        assertThat(wrappedKeys(patient)).as("no new data key for a shredded patient").isZero();
    }

    @Test
    void anApprovalWaitsForWritesInFlightAndWritesDuringAnApprovalWaitForIt() throws Exception {
        String patient = create("Patient", "{\"resourceType\":\"Patient\"}");
        String lock = "shredding/Patient/" + patient;
        String observation = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}}";
        java.util.concurrent.ExecutorService background = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            // A write holds the lock shared while it commits: an approval meanwhile must wait for it.
            String[] admins = {adminToken("keys-admin-race-a"), adminToken("keys-admin-race-b")};
            String requestId = requestShredding(admins[0], patient, "RET-race");
            java.util.concurrent.Future<HttpResponse<String>> approval;
            try (Connection writer = DriverManager.getConnection(url, DevDatabase.OWNER, "")) {
                writer.setAutoCommit(false);
                writer.createStatement().execute("select pg_advisory_xact_lock_shared(hashtext('" + lock + "'))");
                approval = background.submit(() -> post(admins[1], "/admin/keys/shredding/" + requestId + "/approve", ""));
                awaitBlockedOnAdvisoryLockOf(writer);
                assertThat(approval.isDone()).as("approval waits for the write in flight").isFalse();
                assertThat(count(DevDatabase.OWNER, "select count(*) from phi.shredded_compartment where compartment = ?",
                        "Patient/" + patient)).isZero();
                writer.commit();
            }
            assertThat(approval.get(30, java.util.concurrent.TimeUnit.SECONDS).statusCode()).isEqualTo(200);

            // The other way round: while an approval holds the lock, a write waits, then is refused.
            String other = create("Patient", "{\"resourceType\":\"Patient\"}");
            String otherLock = "shredding/Patient/" + other;
            String otherObservation = observation.replace(patient, other);
            java.util.concurrent.Future<HttpResponse<String>> write;
            try (Connection approver = DriverManager.getConnection(url, DevDatabase.OWNER, "")) {
                approver.setAutoCommit(false);
                approver.createStatement().execute("select pg_advisory_xact_lock(hashtext('" + otherLock + "'))");
                write = background.submit(() -> post(token(), "/fhir/Observation", otherObservation));
                awaitBlockedOnAdvisoryLockOf(approver);
                assertThat(write.isDone()).as("a write waits for the approval holding the lock").isFalse();
                approver.createStatement().executeUpdate("insert into phi.shredded_compartment "
                        + "(compartment, request_id, shredded_at, requested_by, approved_by) values ('Patient/" + other
                        + "', gen_random_uuid(), now(), 'test-a', 'test-b')");
                approver.commit();
            }
            assertThat(write.get(30, java.util.concurrent.TimeUnit.SECONDS).statusCode())
                    .as("the write sees the tombstone committed while it waited").isEqualTo(410);
            assertThat(blindIndexTokens(other)).as("nothing of the refused write is indexed").isZero();
        } finally {
            background.shutdownNow();
        }
    }

    @Test
    void theRequesterCanNeverApproveTheirOwnRequest() throws Exception {
        String patient = create("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Selfapproval\"}]}");
        String admin = adminToken("keys-admin-self");
        String requestId = requestShredding(admin, patient, "policy:records-7y");

        HttpResponse<String> refused = post(admin, "/admin/keys/shredding/" + requestId + "/approve", "");
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("OperationOutcome").contains("Dual control");
        assertThat(get("/fhir/Patient/" + patient).statusCode()).isEqualTo(200);
        assertThat(wrappedKeys(patient)).isPositive();
        assertThat(shredding.find(UUID.fromString(requestId)).orElseThrow().state()).isEqualTo("pending");
        assertThat(auditedActions("/admin/keys/shredding/" + requestId + "/approve")).contains("denied");
        // The database refuses it too, whatever the application does.
        try (Connection c = DriverManager.getConnection(url, DevDatabase.PHI_ROLE, "")) {
            assertThatThrownBy(() -> c.createStatement().executeUpdate("update ops.shredding_request set state = "
                    + "'approved', decided_by = requested_by where request_id = '" + requestId + "'"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("check constraint");
        }
    }

    @Test
    void approveAndRefuseAreIdempotentAndFinal() throws Exception {
        String[] admins = {adminToken("keys-admin-c"), adminToken("keys-admin-d")};
        String first = requestShredding(admins[0], create("Patient", "{\"resourceType\":\"Patient\"}"), "RET-1");
        HttpResponse<String> once = post(admins[1], "/admin/keys/shredding/" + first + "/approve", "");
        HttpResponse<String> twice = post(admins[1], "/admin/keys/shredding/" + first + "/approve", "");
        assertThat(once.statusCode()).isEqualTo(200);
        assertThat(twice.statusCode()).isEqualTo(200);
        assertThat(twice.body()).isEqualTo(once.body());
        assertThat(post(admins[1], "/admin/keys/shredding/" + first + "/refuse", "").statusCode()).isEqualTo(409);
        assertThat(auditedActions("/keyring/dek/" + shredding.find(UUID.fromString(first)).orElseThrow().patient()))
                .as("one destruction, however often it is approved").containsExactly("deleted");

        String patient = create("Patient", "{\"resourceType\":\"Patient\"}");
        String second = requestShredding(admins[0], patient, "RET-2");
        HttpResponse<String> refusedOnce = post(admins[1], "/admin/keys/shredding/" + second + "/refuse", "");
        HttpResponse<String> refusedTwice = post(admins[1], "/admin/keys/shredding/" + second + "/refuse", "");
        assertThat(refusedOnce.statusCode()).isEqualTo(200);
        assertThat(refusedTwice.body()).isEqualTo(refusedOnce.body()).contains("\"state\":\"refused\"");
        assertThat(post(admins[1], "/admin/keys/shredding/" + second + "/approve", "").statusCode()).isEqualTo(409);
        assertThat(get("/fhir/Patient/" + patient).statusCode()).isEqualTo(200);
    }

    @Test
    void anUnapprovedRequestExpires() throws Exception {
        String[] admins = {adminToken("keys-admin-e"), adminToken("keys-admin-f")};
        String patient = create("Patient", "{\"resourceType\":\"Patient\"}");
        String requestId = requestShredding(admins[0], patient, "RET-3");
        try (Connection c = DriverManager.getConnection(url, DevDatabase.OWNER, "")) {
            c.createStatement().executeUpdate("update ops.shredding_request set expires_at = now() - interval '1 second' "
                    + "where request_id = '" + requestId + "'");
        }
        HttpResponse<String> late = post(admins[1], "/admin/keys/shredding/" + requestId + "/approve", "");
        assertThat(late.statusCode()).isEqualTo(409);
        assertThat(late.body()).contains("expired");
        assertThat(get("/fhir/Patient/" + patient).statusCode()).isEqualTo(200);
        HttpResponse<String> listed = get(admins[0], "/admin/keys/shredding");
        assertThat(listed.body()).contains(requestId).contains("\"state\":\"expired\"");
        // A new request may be made once the old one expired.
        requestShredding(admins[0], patient, "RET-3b");
    }

    @Test
    void requestsAreValidatedAndNeedManageKeys() throws Exception {
        String admin = adminToken("keys-admin-g");
        String patient = create("Patient", "{\"resourceType\":\"Patient\"}");
        HttpResponse<String> prose = post(admin, "/admin/keys/shredding",
                "{\"patient\":\"" + patient + "\",\"reason\":\"John Doe died in 2001\"}");
        assertThat(prose.statusCode()).isEqualTo(400);
        assertThat(prose.body()).contains("OperationOutcome").doesNotContain("John");
        assertThat(post(admin, "/admin/keys/shredding", "{\"patient\":\"" + UUID.randomUUID() + "\",\"reason\":\"R\"}")
                .statusCode()).isEqualTo(404);
        assertThat(post(admin, "/admin/keys/shredding", "not json").statusCode()).isEqualTo(400);
        requestShredding(admin, patient, "RET-4");
        assertThat(post(admin, "/admin/keys/shredding", "{\"patient\":\"" + patient + "\",\"reason\":\"RET-4\"}")
                .statusCode()).as("one open request per patient").isEqualTo(409);

        // An ordinary client (no manage:keys) can neither request nor list.
        assertThat(post(token(), "/admin/keys/shredding", "{\"patient\":\"" + patient + "\",\"reason\":\"R\"}")
                .statusCode()).isEqualTo(403);
        assertThat(get(token(), "/admin/keys/shredding").statusCode()).isEqualTo(403);
    }

    @Test
    void anApprovalInterruptedBeforeTheKeyringDeletionIsFinishedOnResumption() throws Exception {
        String patient = create("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Interrupted\"}]}");
        UUID requestId = UUID.randomUUID();
        // What a crash right after the approval's commit leaves: approved, tombstoned, keys still there.
        try (Connection c = DriverManager.getConnection(url, DevDatabase.OWNER, "")) {
            c.createStatement().executeUpdate("insert into ops.shredding_request (request_id, compartment, reason, "
                    + "requested_by, requested_at, expires_at, state, decided_by, decided_at) values ('" + requestId
                    + "', 'Patient/" + patient + "', 'RET-5', 'a', now(), now() + interval '1 day', 'approved', 'b', now())");
            c.createStatement().executeUpdate("insert into phi.shredded_compartment values ('Patient/" + patient
                    + "', '" + requestId + "', now(), 'a', 'b')");
        }
        assertThat(get("/fhir/Patient/" + patient).statusCode()).as("refused from the tombstone on").isEqualTo(410);
        assertThat(wrappedKeys(patient)).isPositive();

        shredding.resumeApproved(); // (the background resumption may have got there first: same result)

        assertThat(wrappedKeys(patient)).isZero();
        assertThat(shredding.find(requestId).orElseThrow().state()).isEqualTo("executed");
        assertThat(shredding.resumeApproved()).as("nothing left to resume").isZero();
    }

    @Test
    void theCliListsShreddingRequests() throws Exception {
        String admin = adminToken("keys-admin-cli");
        String patient = create("Patient", "{\"resourceType\":\"Patient\"}");
        String requestId = requestShredding(admin, patient, "RET-CLI-7");

        java.io.StringWriter out = new java.io.StringWriter();
        picocli.CommandLine cli = health.carapace.CarapaceCli.commandLine();
        cli.setOut(new java.io.PrintWriter(out));
        int exit = cli.execute("keys", "shredding", "list", "--data-dir", TestInstallation.dataDir().toString());

        assertThat(exit).isZero();
        assertThat(out.toString()).contains("id\tstate\tpatient")
                .containsPattern(requestId + "\tpending\tPatient/" + patient + "\tRET-CLI-7\t");
    }

    // --- helpers -------------------------------------------------------------------------------

    private record Version(String compartment, byte[] ciphertext, byte[] associatedData) {}

    private String requestShredding(String adminToken, String patient, String reason) {
        HttpResponse<String> created = post(adminToken, "/admin/keys/shredding",
                "{\"patient\":\"" + patient + "\",\"reason\":\"" + reason + "\"}");
        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(created.body()).contains("\"state\":\"pending\"");
        Matcher id = Pattern.compile("\"id\":\"([0-9a-f-]{36})\"").matcher(created.body());
        assertThat(id.find()).isTrue();
        return id.group(1);
    }

    private String adminToken(String name) {
        // manage:keys comes with the policy directory's admin role (test and dev policy: admin.json).
        ServiceClients.Credentials admin = serviceClients.create(name, Set.of("admin"));
        return tokenFor(admin.clientId(), admin.clientSecret());
    }

    private String create(String type, String json) {
        HttpResponse<String> created = post(token(), "/fhir/" + type, json);
        assertThat(created.statusCode()).isEqualTo(201);
        Matcher id = Pattern.compile("\"id\"\\s*:\\s*\"([0-9a-f-]{36})\"").matcher(created.body());
        assertThat(id.find()).isTrue();
        return id.group(1);
    }

    private HttpResponse<String> post(String bearer, String path, String body) {
        return sendWithoutToken(HttpRequest.newBuilder(uri(path))
                .header("Authorization", "Bearer " + bearer)
                .header("Content-Type", path.startsWith("/fhir") ? "application/fhir+json" : "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private HttpResponse<String> get(String path) {
        return get(token(), path);
    }

    private HttpResponse<String> get(String bearer, String path) {
        return sendWithoutToken(HttpRequest.newBuilder(uri(path.replace("|", "%7C")))
                .header("Authorization", "Bearer " + bearer).GET());
    }

    private int wrappedKeys(String patient) throws SQLException {
        return count(DevDatabase.KEYRING_ROLE, "select count(*) from keyring.wrapped_key where starts_with(key_ref, ?)",
                "dek/Patient/" + patient);
    }

    private int blindIndexTokens(String patient) throws SQLException {
        return count(DevDatabase.OWNER, "select count(*) from phi_index.token t join phi.resource r on "
                + "r.resource_type = t.resource_type and r.resource_id = t.resource_id where r.compartment = ?",
                "Patient/" + patient);
    }

    /**
     * Returns once the database shows another backend waiting for an advisory lock that
     * {@code holder} holds (an ungranted lock blocked by its pid): the other party is really
     * stopped at the lock, not just slow.
     */
    private void awaitBlockedOnAdvisoryLockOf(Connection holder) throws Exception {
        int holderPid;
        try (ResultSet rs = holder.createStatement().executeQuery("select pg_backend_pid()")) {
            rs.next();
            holderPid = rs.getInt(1);
        }
        org.awaitility.Awaitility.await("someone waits for the advisory lock held by backend " + holderPid)
                .atMost(java.time.Duration.ofSeconds(30)).pollInterval(java.time.Duration.ofMillis(10))
                .until(() -> count(DevDatabase.OWNER, "select count(*) from pg_locks where locktype = 'advisory'"
                        + " and not granted and ?::int = any(pg_blocking_pids(pid))", String.valueOf(holderPid)) > 0);
    }

    private int count(String role, String sql, String param) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, role, ""); PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, param);
            ResultSet rs = s.executeQuery();
            rs.next();
            return rs.getInt(1);
        }
    }

    private List<Version> versions(String compartment) throws SQLException {
        List<Version> versions = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url, DevDatabase.OWNER, "");
                PreparedStatement s = c.prepareStatement("select resource_type, resource_id, version, ciphertext "
                        + "from phi.resource_version where compartment = ? and not deleted")) {
            s.setString(1, compartment);
            ResultSet rs = s.executeQuery();
            while (rs.next()) {
                String aad = "carapace/v1|" + rs.getString(1) + "/" + rs.getString(2) + "/_history/" + rs.getLong(3)
                        + "|" + compartment;
                versions.add(new Version(compartment, rs.getBytes(4), aad.getBytes(StandardCharsets.UTF_8)));
            }
        }
        return versions;
    }

    private List<String> remainingCompartments() throws SQLException {
        List<String> compartments = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url, DevDatabase.KEYRING_ROLE, "");
                ResultSet rs = c.createStatement().executeQuery(
                        "select substr(key_ref, 5) from keyring.wrapped_key where key_ref like 'dek/%'")) {
            while (rs.next()) {
                compartments.add(rs.getString(1));
            }
        }
        assertThat(compartments).isNotEmpty();
        return compartments;
    }

    private List<String> auditedResources(String patient) throws SQLException {
        return strings("select convert_from(body, 'UTF8')::jsonb ->> 'resource' from audit.event where convert_from(body, 'UTF8')::jsonb ->> 'patient' = ?", patient);
    }

    private List<String> auditedActions(String resource) throws SQLException {
        return strings("select convert_from(body, 'UTF8')::jsonb ->> 'action' from audit.event where convert_from(body, 'UTF8')::jsonb ->> 'resource' = ?", resource);
    }

    private List<String> strings(String sql, String param) throws SQLException {
        List<String> values = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url, DevDatabase.OWNER, ""); PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, param);
            ResultSet rs = s.executeQuery();
            while (rs.next()) {
                values.add(rs.getString(1));
            }
        }
        return values;
    }
}
