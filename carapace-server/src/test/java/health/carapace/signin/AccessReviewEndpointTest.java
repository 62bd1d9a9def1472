package health.carapace.signin;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.audit.AuditQueries;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.PhiScanner;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The access review's data over the admin API ({@code GET /admin/access-review}, what the
 * console's page shows): granted versus used permissions, accounts without MFA, dormant accounts,
 * break-glass grants with their review ({@code POST /admin/access-review/break-glass/{id}}); the
 * refusals (no permission, bad input, one's own grant) and their audit.
 */
@ExtendWith(OutputCaptureExtension.class)
class AccessReviewEndpointTest extends IntegrationTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Autowired
    private Users users;

    @Autowired
    private AuditQueries auditQueries;

    @Test
    void theReviewListsUnusedPermissionsAccountsWithoutMfaAndDormantAccounts() throws Exception {
        // a clinician client that never used anything it was granted
        ServiceClients.Credentials idle = client("review-idle", TestPolicy.CLINICIAN);
        // a user who never enrolled a second factor (and never signed in): without MFA, but new, so not dormant
        String fresh = "fresh-" + UUID.randomUUID().toString().substring(0, 8);
        users.create(fresh, Set.of(TestPolicy.CLINICIAN), null);
        // a user whose account is older than the window and who never signed in: dormant
        String sleeper = "sleeper-" + UUID.randomUUID().toString().substring(0, 8);
        users.create(sleeper, Set.of(TestPolicy.CLINICIAN), null);
        JdbcClient.create(dataSource).sql("update iam.app_user set created_at = ? where user_name = ?")
                .params(Timestamp.from(Instant.now().minus(Duration.ofDays(200))), sleeper).update();
        String reviewer = tokenWithRoles("review-officer", "privacy-officer");

        HttpResponse<String> answer = get(reviewer, "/admin/access-review");

        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(answer.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/json");
        assertThat(answer.headers().allValues("Cache-Control")).containsExactly("no-store");
        JsonNode review = JSON.readTree(answer.body());
        assertThat(review.get("days").asInt()).isEqualTo(90);
        JsonNode idlePrincipal = principal(review, idle.clientId());
        assertThat(strings(idlePrincipal.get("granted"))).contains("view:demographics", "view:clinical_records");
        assertThat(strings(idlePrincipal.get("unused"))).isEqualTo(strings(idlePrincipal.get("granted")));
        assertThat(idlePrincipal.get("kind").asString()).isEqualTo("service-client");
        assertThat(strings(review.get("usersWithoutMfa"))).contains(fresh, sleeper);
        assertThat(strings(review.get("dormant"))).contains(sleeper).doesNotContain(fresh, idle.clientId());
        assertThat(principal(review, sleeper).get("dormant").asBoolean()).isTrue();
        assertThat(principal(review, sleeper).get("lastSignIn").isNull()).isTrue();

        // a shorter window changes what counts as dormant: the same account is then checked over 10 days
        JsonNode tenDays = JSON.readTree(get(reviewer, "/admin/access-review?days=10").body());
        assertThat(tenDays.get("days").asInt()).isEqualTo(10);
        assertThat(strings(tenDays.get("dormant"))).contains(sleeper).doesNotContain(fresh);

        // every reading is on the trail as an export of audit data, by the reviewer
        assertThat(audited(principalOf(reviewer), "exported", "/admin/access-review")).isEqualTo(2);
    }

    @Test
    void aBreakGlassGrantAwaitsItsReviewUntilAnotherOfficerRecordsIt(CapturedOutput output) throws Exception {
        String reason = "Canaryreview" + UUID.randomUUID().toString().replace("-", "");
        ServiceClients.Credentials holder = client("review-holder", TestPolicy.CLINICIAN, "privacy-officer");
        String holderToken = tokenFor(holder.clientId(), holder.clientSecret());
        String patient = createPatient();
        HttpResponse<String> opened = fhirPost(holderToken, "/fhir/$break-glass", breakGlass(patient, reason));
        assertThat(opened.statusCode()).as(opened.body()).isEqualTo(200);
        String reviewer = tokenWithRoles("review-second-officer", "privacy-officer");

        JsonNode grant = grantOf(JSON.readTree(get(reviewer, "/admin/access-review").body()), holder.clientId());
        assertThat(grant.get("awaitingReview").asBoolean()).isTrue();
        assertThat(grant.get("reason").asString()).isEqualTo(reason);
        assertThat(grant.get("patient").asString()).isEqualTo("Patient/" + patient);
        String grantId = grant.get("grant").asString();
        // the reason is read in clear: audited with its patient (in the patient's trail), not only as one bulk read
        assertThat(auditQueries.search(new AuditQueries.Criteria("Patient/" + patient, principalOf(reviewer), null, null,
                List.of("exported"), true, 10))).extracting(AuditQueries.StoredEvent::resource)
                .containsExactly("/admin/access-review/break-glass/" + grantId);

        // an open grant is not reviewed yet: what it will be used for is not known (the refusal audited)
        assertRefused(post(reviewer, grantId, "outcome=appropriate"), 409);
        assertThat(deniedBecause(principalOf(reviewer), "/admin/access-review/break-glass/" + grantId))
                .containsExactly("grant-open");
        assertThat(fhirPost(holderToken, "/fhir/$break-glass-close", breakGlass(patient, null)).statusCode())
                .isEqualTo(200);

        // nobody reviews their own emergency access (refused and audited as denied)
        assertRefused(post(holderToken, grantId, "outcome=appropriate"), 403);
        assertThat(audited(holder.clientId(), "denied", "/admin/access-review/break-glass/" + grantId)).isEqualTo(1);
        assertThat(reviews(grantId)).isZero();

        // a grant awaiting review stays on the list however old it is (here: opened 200 days ago, window 10 days)
        JdbcClient.create(dataSource).sql("update iam.break_glass set opened_at = opened_at - interval '200 days', "
                + "expires_at = expires_at - interval '200 days', closed_at = closed_at - interval '200 days' "
                + "where grant_id = ?").param(UUID.fromString(grantId)).update();
        assertThat(grantOf(JSON.readTree(get(reviewer, "/admin/access-review?days=10").body()), holder.clientId())
                .get("awaitingReview").asBoolean()).isTrue();

        HttpResponse<String> recorded = post(reviewer, grantId, "outcome=inappropriate");
        assertThat(recorded.statusCode()).as(recorded.body()).isEqualTo(200);
        assertThat(JSON.readTree(recorded.body()).get("outcome").asString()).isEqualTo("inappropriate");
        assertThat(audited(principalOf(reviewer), "admin_change", "/admin/access-review/break-glass/" + grantId))
                .isEqualTo(1);

        // once reviewed, an old grant leaves the short window and is still shown in a window that covers it
        assertThat(JSON.readTree(get(reviewer, "/admin/access-review?days=10").body()).get("breakGlass").toString())
                .doesNotContain(grantId);
        JsonNode reviewed = grantOf(JSON.readTree(get(reviewer, "/admin/access-review?days=365").body()), holder.clientId());
        assertThat(reviewed.get("awaitingReview").asBoolean()).isFalse();
        assertThat(reviewed.get("reviewedBy").asString()).isEqualTo(principalOf(reviewer));
        assertThat(reviewed.get("outcome").asString()).isEqualTo("inappropriate");

        // the first review stands, and an attempt to overwrite it is audited
        assertRefused(post(reviewer, grantId, "outcome=appropriate"), 409);
        assertThat(reviews(grantId)).isEqualTo(1);
        assertThat(deniedBecause(principalOf(reviewer), "/admin/access-review/break-glass/" + grantId))
                .containsExactlyInAnyOrder("grant-open", "already-reviewed");

        // the reason reached the reviewer and nothing else: not the log, not the database in clear
        List<String> leaks = new ArrayList<>(PhiScanner.inText("log output", output.getAll(), List.of(reason)));
        leaks.addAll(PhiScanner.inText("a COPY dump of every table", PhiScanner.copyDump(databasePort()), List.of(reason)));
        assertThat(leaks).isEmpty();
    }

    @Test
    void withoutThePermissionTheReviewIsRefusedAndTheRefusalAudited() throws Exception {
        ServiceClients.Credentials clinician = client("review-outsider", TestPolicy.CLINICIAN);
        String token = tokenFor(clinician.clientId(), clinician.clientSecret());

        HttpResponse<String> refused = get(token, "/admin/access-review");
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(Refusals.outcomeOf(refused).getIssueFirstRep().getCode())
                .isEqualTo(OperationOutcome.IssueType.FORBIDDEN);
        assertThat(refused.body()).doesNotContain("principals").doesNotContain("breakGlass");
        assertThat(audited(clinician.clientId(), "denied", "/admin/access-review")).isEqualTo(1);

        // view:audit alone may read, but not record a review (that is incident work too)
        String auditor = tokenWithRoles("review-auditor", TestPolicy.AUDITOR);
        assertThat(get(auditor, "/admin/access-review").statusCode()).isEqualTo(200);
        String someGrant = UUID.randomUUID().toString();
        assertThat(post(auditor, someGrant, "outcome=appropriate").statusCode()).isEqualTo(403);
        assertThat(audited(principalOf(auditor), "denied", "/admin/access-review/break-glass/" + someGrant))
                .isEqualTo(1);

        // no token at all
        HttpResponse<String> anonymous = sendWithoutToken(HttpRequest.newBuilder(uri("/admin/access-review")).GET());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.body()).doesNotContain("principals");
    }

    @Test
    void badInputIsRefusedWithoutEchoAndChangesNothing() throws Exception {
        String reviewer = tokenWithRoles("review-bad-input", "privacy-officer");
        String canary = "Canaryinput" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        long exportsBefore = audited(principalOf(reviewer), "exported", "/admin/access-review");
        for (String query : List.of("?days=0", "?days=3661", "?days=" + canary, "?days=1&days=2", "?" + canary + "=1",
                "?days=-5", "?days=%2B5", "?days=99999999999999999999")) {
            HttpResponse<String> refused = get(reviewer, "/admin/access-review" + query);
            assertThat(refused.statusCode()).as(query).isEqualTo(400);
            assertThat(Refusals.outcomeOf(refused).getIssueFirstRep().getCode()).isEqualTo(OperationOutcome.IssueType.INVALID);
            assertThat(refused.body()).as(query).doesNotContain(canary).doesNotContain("99999999999999999999");
        }
        // undecodable or hostile encodings (attacked on a running start-dev): refused before the route
        for (String query : List.of("?days=%00", "?days=%ff", "?days=1%0a", "?days=%E2%80%AE1", "?days=%3Cscript%3E")) {
            HttpResponse<String> refused = get(reviewer, "/admin/access-review" + query);
            assertThat(refused.statusCode()).as(query).isEqualTo(400);
            assertThat(refused.body()).as(query).doesNotContain("<script>").doesNotContain("principals");
        }
        assertThat(audited(principalOf(reviewer), "exported", "/admin/access-review")).isEqualTo(exportsBefore);

        long reviewsBefore = JdbcClient.create(dataSource).sql("select count(*) from iam.break_glass_review")
                .query(Long.class).single();
        String unknown = UUID.randomUUID().toString();
        assertRefused(post(reviewer, unknown, "outcome=appropriate"), 404);
        for (String body : List.of("", "outcome=" + canary, "outcome=appropriate&outcome=inappropriate",
                "outcome=appropriate&" + canary + "=1", "outcome=APPROPRIATE")) {
            HttpResponse<String> refused = post(reviewer, unknown, body);
            assertThat(refused.statusCode()).as(body).isEqualTo(400);
            assertThat(refused.body()).doesNotContain(canary);
        }
        for (String id : List.of(canary, unknown.toUpperCase(), "1", unknown + "0")) {
            HttpResponse<String> refused = post(reviewer, id, "outcome=appropriate");
            assertThat(refused.statusCode()).as(id).isEqualTo(400);
            assertThat(refused.body()).doesNotContain(canary);
        }
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from iam.break_glass_review").query(Long.class)
                .single()).isEqualTo(reviewsBefore);
    }

    @Test
    void forgedTokensOtherMethodsPathTricksAndAnOddHostGetNoReview() throws Exception {
        String reviewer = tokenWithRoles("review-attacked", "privacy-officer");
        String[] parts = reviewer.split("\\.");
        char last = parts[2].charAt(parts[2].length() - 2);
        String flipped = parts[0] + "." + parts[1] + "." + parts[2].substring(0, parts[2].length() - 2)
                + (last == 'A' ? 'B' : 'A') + parts[2].substring(parts[2].length() - 1);
        String unsigned = java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString("{\"alg\":\"none\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8)) + "." + parts[1] + ".";
        long exportsBefore = audited(principalOf(reviewer), "exported", "/admin/access-review");

        for (String forged : List.of(flipped, unsigned, "not-a-jwt")) {
            HttpResponse<String> refused = get(forged, "/admin/access-review");
            assertThat(refused.statusCode()).isEqualTo(401);
            assertThat(refused.body()).doesNotContain("principals");
        }
        for (String method : List.of("PUT", "DELETE", "PATCH")) {
            HttpResponse<String> refused = sendWithoutToken(HttpRequest.newBuilder(uri("/admin/access-review"))
                    .header("Authorization", "Bearer " + reviewer).method(method, HttpRequest.BodyPublishers.noBody()));
            assertThat(refused.statusCode()).as(method).isIn(403, 405);
        }
        assertThat(get(reviewer, "/admin/access-review/..;/metrics").statusCode()).isEqualTo(400);
        assertThat(get(reviewer, "/admin/access-review/%2e%2e/metrics").statusCode()).isEqualTo(400);
        assertThat(get(reviewer, "/admin/Access-Review").statusCode()).isIn(401, 403, 404);
        assertThat(get(reviewer, "/admin/access-review?days=%2531").statusCode()).as("no double decoding").isEqualTo(400);
        try (var socket = (javax.net.ssl.SSLSocket) health.carapace.testing.TestInstallation
                .trustingSslContext(health.carapace.testing.TestInstallation.dataDir()).getSocketFactory()
                .createSocket("127.0.0.1", port)) {
            socket.getOutputStream().write(("GET /admin/access-review HTTP/1.1\r\nHost: evil.example\r\n"
                    + "Authorization: Bearer " + reviewer + "\r\nConnection: close\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 421").doesNotContain("evil.example").doesNotContain("principals");
        }
        assertThat(audited(principalOf(reviewer), "exported", "/admin/access-review")).isEqualTo(exportsBefore);
    }

    // --- helpers ---------------------------------------------------------------------------------

    private static void assertRefused(HttpResponse<String> response, int status) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(Refusals.outcomeOf(response)).isNotNull();
    }

    private static JsonNode principal(JsonNode review, String name) {
        for (JsonNode p : review.get("principals")) {
            if (p.get("name").asString().equals(name)) {
                return p;
            }
        }
        throw new AssertionError("no principal " + name + " in the review");
    }

    private static JsonNode grantOf(JsonNode review, String holder) {
        JsonNode found = null;
        for (JsonNode g : review.get("breakGlass")) {
            if (g.get("principal").asString().equals(holder)) {
                found = g;
            }
        }
        assertThat(found).as("a grant of " + holder).isNotNull();
        return found;
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(value -> values.add(value.asString()));
        return values;
    }

    private String principalOf(String token) throws Exception {
        String payload = token.split("\\.")[1];
        return JSON.readTree(java.util.Base64.getUrlDecoder().decode(payload)).get("sub").asString();
    }

    private long audited(String actor, String action, String resource) {
        return auditQueries.search(new AuditQueries.Criteria(null, actor, null, null, List.of(action), null, 1000))
                .stream().filter(event -> event.resource().equals(resource)).count();
    }

    /** The reasons of the refusals audited for {@code actor} on {@code resource}. */
    private List<String> deniedBecause(String actor, String resource) {
        return auditQueries.search(new AuditQueries.Criteria(null, actor, null, null, List.of("denied"), null, 1000))
                .stream().filter(event -> event.resource().equals(resource)).map(AuditQueries.StoredEvent::reason).toList();
    }

    private long reviews(String grantId) {
        return JdbcClient.create(dataSource).sql("select count(*) from iam.break_glass_review where grant_id = ?")
                .param(UUID.fromString(grantId)).query(Long.class).single();
    }

    private String createPatient() {
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"active\":true}")));
        assertThat(created.statusCode()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
    }

    private static String breakGlass(String patient, String reason) {
        return "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"patient\",\"valueReference\":{\"reference\":"
                + "\"Patient/" + patient + "\"}}" + (reason == null ? "" : ",{\"name\":\"reason\",\"valueString\":\""
                + reason + "\"}") + "]}";
    }

    private HttpResponse<String> fhirPost(String token, String path, String body) {
        return sendWithoutToken(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private HttpResponse<String> get(String token, String path) {
        return sendWithoutToken(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + token).GET());
    }

    private HttpResponse<String> post(String token, String grantId, String form) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/admin/access-review/break-glass/" + grantId))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)));
    }

    private static int databasePort() {
        return Integer.parseInt(health.carapace.testing.TestInstallation.properties().get("carapace.db.url").toString()
                .replaceAll(".*:(\\d+)/.*", "$1"));
    }
}
