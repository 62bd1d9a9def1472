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
import org.hl7.fhir.r4.model.Group;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Groups of patients managed through the FHIR API and exported at Group level (issue #18, ADR
 * 0027): a Group is read whole, so only roles that reach every patient may read or change one; a
 * Group-level $export runs the same asynchronous pattern as the other levels over the group's
 * members only, files encrypted at rest; a member the client may not see is left out, audited,
 * and never confirmed.
 */
@org.junit.jupiter.api.extension.ExtendWith(org.springframework.boot.test.system.OutputCaptureExtension.class)
class GroupExportTest extends IntegrationTest {

    private static final Instant CLASS_BEGAN = Instant.now().minusSeconds(1);

    private ECKey key;
    private String clientId;
    private String canary;
    private String memberA;
    private String memberB;
    private String outsider;
    private String groupId;

    @BeforeEach
    void setUp() throws Exception {
        key = new ECKeyGenerator(Curve.P_384).keyID("k1").generate();
        clientId = serviceClients.createBackend("group-bulk", Set.of(TestPolicy.EVERYTHING), List.of("system/*.rs"),
                new JWKSet(key.toPublicJWK()).toString(), null);
        canary = "Canary" + UUID.randomUUID().toString().replace("-", "");
        memberA = patient(canary + "a");
        memberB = patient(canary + "b");
        outsider = patient(canary + "outsider");
        for (String patient : List.of(memberA, outsider)) {
            Observation observation = new Observation();
            observation.setStatus(Observation.ObservationStatus.FINAL);
            observation.getCode().setText(canary + " pulse of " + patient);
            observation.setSubject(new Reference("Patient/" + patient));
            fhirClient().create().resource(observation).execute();
        }
        Group group = new Group();
        group.setType(Group.GroupType.PERSON);
        group.setActual(true);
        group.setName("cohort " + canary);
        group.addMember().setEntity(new Reference("Patient/" + memberA));
        group.addMember().setEntity(new Reference("Patient/" + memberB));
        groupId = fhirClient().create().resource(group).execute().getId().getIdPart();
    }

    private String patient(String family) {
        Patient patient = new Patient();
        patient.addName().setFamily(family);
        return fhirClient().create().resource(patient).execute().getId().getIdPart();
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

    private HttpResponse<String> finished(String status, String token) {
        return await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> get(status, token), r -> r.statusCode() != 202);
    }

    private long events(String sql, Object... params) {
        return JdbcClient.create(dataSource).sql(sql).params(params).query(Long.class).single();
    }

    @Test
    void aGroupIsCreatedAndChangedThroughTheApiAndOnlyRolesReachingEveryPatientReadIt() {
        Group read = fhirClient().read().resource(Group.class).withId(groupId).execute();
        assertThat(read.getMember()).extracting(m -> m.getEntity().getReference())
                .containsExactly("Patient/" + memberA, "Patient/" + memberB);
        read.addMember().setEntity(new Reference("Patient/" + outsider));
        read.getMember().get(1).setInactive(true);
        var updated = fhirClient().update().resource(read).execute();
        assertThat(updated.getId().getVersionIdPart()).isEqualTo("2");
        assertThat(fhirClient().read().resource(Group.class).withId(groupId).execute().getMember()).hasSize(3);

        // A clinician (care relationships only) may not read a Group: it would show patients out of their reach.
        String clinician = tokenWithRoles("group-clinician-" + UUID.randomUUID(), TestPolicy.CLINICIAN);
        HttpResponse<String> refused = get(fhirBase() + "/Group/" + groupId, clinician);
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).doesNotContain(memberA).doesNotContain(canary);
        HttpResponse<String> search = get(fhirBase() + "/Group", clinician);
        assertThat(search.statusCode()).isEqualTo(403);
        assertThat(search.body()).doesNotContain(memberA);
    }

    @Test
    void aGroupExportsItsMembersOnlyEndToEndEncryptedAtRest(org.springframework.boot.test.system.CapturedOutput log)
            throws Exception {
        String token = backendToken("system/*.rs");
        HttpResponse<String> kickOff = get(fhirBase() + "/Group/" + groupId + "/$export?_type=Patient,Observation&_since="
                + CLASS_BEGAN, token, "Prefer", "respond-async", "Accept", "application/fhir+json");
        assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
        String status = kickOff.headers().firstValue("Content-Location").orElseThrow();
        assertThat(status).startsWith(baseUrl() + "/export/jobs/");
        HttpResponse<String> running = get(status, token);
        assertThat(running.statusCode()).isIn(200, 202);

        HttpResponse<String> done = finished(status, token);
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        Map<String, Object> manifest = SmartAppBrowser.json(done);
        assertThat(manifest.get("requiresAccessToken")).isEqualTo(true);
        assertThat((String) manifest.get("request")).isEqualTo(fhirBase() + "/Group/" + groupId + "/$export");
        assertThat(done.body()).doesNotContain(canary).doesNotContain(memberA).doesNotContain(memberB);
        StringBuilder all = new StringBuilder();
        for (Object entry : (List<?>) manifest.get("output")) {
            HttpResponse<String> file = get((String) ((Map<?, ?>) entry).get("url"), token);
            assertThat(file.statusCode()).isEqualTo(200);
            assertThat(file.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+ndjson");
            all.append(file.body());
        }
        assertThat(all.toString()).contains("\"id\":\"" + memberA + "\"").contains("\"id\":\"" + memberB + "\"")
                .contains(canary + " pulse of " + memberA)
                .doesNotContain(outsider).doesNotContain(canary + "outsider");

        Path directory = TestInstallation.dataDir().resolve("exports").resolve(status.substring(status.lastIndexOf('/') + 1));
        try (Stream<Path> files = Files.walk(directory)) {
            List<Path> written = files.filter(Files::isRegularFile).toList();
            assertThat(written).isNotEmpty();
            for (Path file : written) {
                assertThat(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1)).doesNotContain(canary)
                        .doesNotContain("resourceType").doesNotContain(memberA);
            }
        }
        assertThat(log.getAll()).doesNotContain(canary);
        // each member exported is audited; the patient outside the group is not
        String exported = "select count(*) from audit.event where patient = ? and actor = ? and action = 'viewed'";
        assertThat(events(exported, "Patient/" + memberA, clientId)).isEqualTo(1);
        assertThat(events(exported, "Patient/" + memberB, clientId)).isEqualTo(1);
        assertThat(events(exported, "Patient/" + outsider, clientId)).isZero();
        assertThat(events("select count(*) from audit.event where convert_from(body, 'UTF8')::jsonb ->> 'resource' = ? and actor = ?", "/fhir/Group/" + groupId,
                clientId)).as("the read of the Group at kick-off").isEqualTo(1);
    }

    @Test
    void membersTheClientMayNotSeeAreLeftOutAuditedAndNeverConfirmed() throws Exception {
        // May read groups, but reaches each patient's records only through care relationships it does not have.
        clientId = serviceClients.createBackend("group-bulk-narrow", Set.of(TestPolicy.GROUPS_ONLY, TestPolicy.CLINICIAN),
                List.of("system/*.rs"), new JWKSet(key.toPublicJWK()).toString(), null);
        String token = backendToken("system/*.rs");
        HttpResponse<String> kickOff = get(fhirBase() + "/Group/" + groupId + "/$export?_type=Patient,Observation", token,
                "Prefer", "respond-async");
        assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
        String status = kickOff.headers().firstValue("Content-Location").orElseThrow();
        HttpResponse<String> done = finished(status, token);
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        assertThat(done.body()).doesNotContain(memberA).doesNotContain(memberB).doesNotContain(canary);
        assertThat((List<?>) SmartAppBrowser.json(done).get("output")).isEmpty();
        assertThat((List<?>) SmartAppBrowser.json(done).get("error")).isEmpty();
        String denied = "select count(*) from audit.event where patient = ? and actor = ? and action = 'denied'"
                + " and convert_from(body, 'UTF8')::jsonb ->> 'resource' = ?";
        String path = "/fhir/Group/" + groupId + "/$export";
        assertThat(events(denied, "Patient/" + memberA, clientId, path)).isEqualTo(1);
        assertThat(events(denied, "Patient/" + memberB, clientId, path)).isEqualTo(1);
        assertThat(events("select count(*) from audit.event where actor = ? and action = 'viewed' and patient is not null",
                clientId)).isZero();
    }

    @Test
    void badGroupKickOffsAndBadGroupsAreRefusedWithAnOperationOutcomeAndStoreNothing() throws Exception {
        String token = backendToken("system/*.rs");
        JdbcClient db = JdbcClient.create(dataSource);
        long jobsBefore = db.sql("select count(*) from export.job").query(Long.class).single();
        // unknown group, not an id
        for (String id : List.of(UUID.randomUUID().toString(), "not-an-id", UUID.randomUUID().toString().toUpperCase())) {
            HttpResponse<String> answer = get(fhirBase() + "/Group/" + id + "/$export", token, "Prefer", "respond-async");
            assertThat(answer.statusCode()).as(id).isEqualTo(404);
            assertThat(Refusals.outcomeOf(answer).getIssueFirstRep().getDiagnostics()).startsWith("No such Group");
            assertThat(answer.body()).doesNotContain(id);
        }
        // a group of another kind: described by characteristics, not a list of members
        Group descriptive = new Group();
        descriptive.setType(Group.GroupType.PERSON);
        descriptive.setActual(false);
        descriptive.addCharacteristic().getCode().setText("diabetic");
        String descriptiveId = fhirClient().create().resource(descriptive).execute().getId().getIdPart();
        HttpResponse<String> notAList = get(fhirBase() + "/Group/" + descriptiveId + "/$export", token,
                "Prefer", "respond-async");
        assertThat(notAList.statusCode()).isEqualTo(400);
        assertThat(Refusals.outcomeOf(notAList).getIssue()).isNotEmpty();
        // a client that may not read groups learns nothing about this one (403 whether or not it exists)
        clientId = serviceClients.createBackend("group-bulk-demographics", Set.of(TestPolicy.ALL_DEMOGRAPHICS), List.of("system/*.rs"), new JWKSet(key.toPublicJWK()).toString(), null);
        String noGroups = backendToken("system/*.rs");
        assertThat(get(fhirBase() + "/Group/" + groupId + "/$export?_type=Patient", noGroups, "Prefer", "respond-async")
                .statusCode()).isEqualTo(403);
        assertThat(get(fhirBase() + "/Group/" + UUID.randomUUID() + "/$export?_type=Patient", noGroups,
                "Prefer", "respond-async").statusCode()).isEqualTo(403);
        assertThat(db.sql("select count(*) from audit.event where actor = ? and action = 'denied'").param(clientId)
                .query(Long.class).single()).isEqualTo(2);
        assertThat(db.sql("select count(*) from export.job").query(Long.class).single()).isEqualTo(jobsBefore);

        // Writes: a member that is not a Patient, a group of things other than people: 400, nothing stored or echoed.
        String practitioner = fhirClient().create().resource(new org.hl7.fhir.r4.model.Practitioner()).execute().getId()
                .getIdPart();
        long groupsBefore = db.sql("select count(*) from phi.resource where resource_type = 'Group'").query(Long.class)
                .single();
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("{\"resourceType\":\"Group\",\"type\":\"person\",\"actual\":true,\"member\":[{\"entity\":"
                + "{\"reference\":\"Practitioner/" + practitioner + "\"}}]}", "Group.member.entity");
        bad.put("{\"resourceType\":\"Group\",\"type\":\"person\",\"actual\":true,\"member\":[{\"entity\":"
                + "{\"reference\":\"https://elsewhere.example/fhir/Patient/" + memberA + "\"}}]}", "Group.member.entity");
        bad.put("{\"resourceType\":\"Group\",\"type\":\"device\",\"actual\":true}", "Group.type");
        for (var body : bad.entrySet()) {
            HttpResponse<String> answer = send(HttpRequest.newBuilder(uri("/fhir/Group"))
                    .header("Content-Type", "application/fhir+json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.getKey())));
            assertThat(answer.statusCode()).as(body.getKey()).isEqualTo(400);
            var outcome = Refusals.outcomeOf(answer);
            assertThat(outcome.getIssueFirstRep().getExpression().stream().map(e -> e.getValue()).toList())
                    .contains(body.getValue());
            assertThat(answer.body()).doesNotContain(practitioner).doesNotContain(memberA).doesNotContain("elsewhere");
        }
        assertThat(db.sql("select count(*) from phi.resource where resource_type = 'Group'").query(Long.class).single())
                .isEqualTo(groupsBefore);
    }

    /** As an outsider sends them: no token, another method, an encoded operation name, another client's group job. */
    @Test
    void groupExportRoutesRefuseOutsidersAndOddSpellings() throws Exception {
        JdbcClient db = JdbcClient.create(dataSource);
        long before = db.sql("select count(*) from export.job").query(Long.class).single();
        String path = fhirBase() + "/Group/" + groupId + "/$export";
        HttpResponse<String> anonymous = sendWithoutToken(HttpRequest.newBuilder(java.net.URI.create(path))
                .header("Prefer", "respond-async").GET());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.body()).doesNotContain(memberA);
        String token = backendToken("system/*.rs");
        HttpResponse<String> posted = sendWithoutToken(HttpRequest.newBuilder(java.net.URI.create(path))
                .header("Authorization", "Bearer " + token).header("Prefer", "respond-async")
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(posted.statusCode()).isEqualTo(405);
        HttpResponse<String> encoded = get(fhirBase() + "/Group/" + groupId + "/%24export", token, "Prefer", "respond-async");
        assertThat(encoded.statusCode()).as(encoded.body()).isBetween(400, 499);
        assertThat(encoded.body()).doesNotContain(memberA).doesNotContain(canary);
        assertThat(db.sql("select count(*) from export.job").query(Long.class).single()).isEqualTo(before);
    }
}
