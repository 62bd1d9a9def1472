package health.carapace.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.crypto.RecordCipher;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestPolicy;
import health.carapace.testing.TestInstallation;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Every PHI access and change leaves an event; without a durable event, no PHI leaves. */
class AuditTrailTest extends IntegrationTest {

    private final String url = TestInstallation.properties().get("carapace.db.url").toString();
    private final String family = "Audited" + Fakes.letters(8);

    @Autowired
    RecordCipher cipher;

    private String clientId;
    private String token;

    @BeforeEach
    void client() {
        ServiceClients.Credentials client = client("audit-test", TestPolicy.EVERYTHING);
        clientId = client.clientId();
        token = tokenFor(client.clientId(), client.clientSecret());
    }

    @Test
    void aReadIsAuditedWithUserPatientRequestIdAndContext() {
        String id = createPatient(family);
        HttpResponse<String> read = call(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + id))
                .header("X-Device-Id", "UA-12345").header("X-Geo-Location", "40.7128,-74.0060").GET());
        assertThat(read.statusCode()).isEqualTo(200);
        List<Map<String, Object>> events = eventsFor(read);
        assertThat(events).hasSize(1);
        String body = (String) events.get(0).get("body");
        assertThat(events.get(0)).containsEntry("action", "viewed").containsEntry("actor", clientId)
                .containsEntry("patient", "Patient/" + id).containsEntry("outcome", "success");
        assertThat(body).contains("\"resource\":\"/fhir/Patient/" + id + "\"")
                .contains("\"device_id\":\"UA-12345\"").contains("\"location\":\"40.7128,-74.0060\"")
                .contains("\"ip\":\"127.0.0.1\"").contains("\"timestamp\":\"").doesNotContain(family);
    }

    @Test
    void headersThatAreNotDeviceIdsOrCoordinatesAreDropped() {
        String id = createPatient(family);
        HttpResponse<String> read = call(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + id))
                .header("X-Device-Id", "Jane Doe's phone").header("X-Geo-Location", "12 Main Street").GET());
        String body = (String) eventsFor(read).get(0).get("body");
        assertThat(body).contains("\"device_id\":null").contains("\"location\":null").doesNotContain("Jane").doesNotContain("Main");
    }

    @Test
    void aSearchIsAuditedOnceForTheEncryptedQueryAndOncePerPatientReturned() {
        String a = createPatient(family + "a");
        String b = createPatient(family + "b");
        String query = "family=" + URLEncoder.encode(family, StandardCharsets.UTF_8);
        HttpResponse<String> search = call(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient?" + query)).GET());
        assertThat(search.statusCode()).isEqualTo(200);
        List<Map<String, Object>> events = eventsFor(search);
        assertThat(events).extracting(e -> e.get("action")).containsExactlyInAnyOrder("searched", "viewed", "viewed");
        assertThat(events).extracting(e -> e.get("patient")).contains("Patient/" + a, "Patient/" + b);
        String searched = (String) events.stream().filter(e -> e.get("action").equals("searched")).findFirst().orElseThrow()
                .get("body");
        assertThat(searched).doesNotContain(family);
        Matcher m = Pattern.compile("\"id\":\"([0-9a-f-]{36})\".*\"query\":\"([^\"]+)\"").matcher(searched);
        assertThat(m.find()).isTrue();
        byte[] plain = cipher.decrypt("audit-queries", Base64.getDecoder().decode(m.group(2)),
                ("audit-query/" + m.group(1)).getBytes(StandardCharsets.UTF_8));
        assertThat(new String(plain, StandardCharsets.UTF_8)).isEqualTo(query);
    }

    @Test
    void aPostedSearchIsAuditedWithItsQueryToo() {
        String a = createPatient(family + "p");
        HttpResponse<String> search = call(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/_search"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("family=" + family)));
        assertThat(search.statusCode()).isEqualTo(200);
        List<Map<String, Object>> events = eventsFor(search);
        assertThat(events).extracting(e -> e.get("patient")).contains("Patient/" + a);
        String searched = (String) events.stream().filter(e -> e.get("action").equals("searched")).findFirst().orElseThrow()
                .get("body");
        assertThat(searched).doesNotContain(family);
        Matcher m = Pattern.compile("\"id\":\"([0-9a-f-]{36})\".*\"query\":\"([^\"]+)\"").matcher(searched);
        assertThat(m.find()).isTrue();
        byte[] plain = cipher.decrypt("audit-queries", Base64.getDecoder().decode(m.group(2)),
                ("audit-query/" + m.group(1)).getBytes(StandardCharsets.UTF_8));
        assertThat(new String(plain, StandardCharsets.UTF_8)).isEqualTo("family=" + family);
    }

    @Test
    void changesAreAuditedWithTheirPatient() {
        String id = createPatient(family);
        HttpResponse<String> update = call(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + id))
                .header("Content-Type", "application/fhir+json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}")));
        assertThat(update.statusCode()).isEqualTo(200);
        HttpResponse<String> delete = call(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + id)).DELETE());
        assertThat(delete.statusCode()).isBetween(200, 204);
        List<String> actions = jdbc().sql("select action from audit.event where patient = ? order by id")
                .param("Patient/" + id).query(String.class).list();
        assertThat(actions).containsExactly("created", "modified", "deleted");
    }

    @Test
    void aRefusedRequestIsAuditedAsDenied() throws Exception {
        HttpResponse<String> refused = http().send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).isEqualTo(401);
        List<Map<String, Object>> events = eventsFor(refused);
        assertThat(events).hasSize(1);
        assertThat(events.get(0)).containsEntry("action", "denied").containsEntry("actor", "anonymous")
                .containsEntry("outcome", "failure");
    }

    @Test
    void tokensIssuedRefusedAndClientsCreatedAreAudited() throws Exception {
        assertThat(jdbc().sql("select action from audit.event where convert_from(body, 'UTF8') like ? order by id")
                .param("%/admin/clients/" + clientId + "%").query(String.class).list())
                .containsExactly("admin_change");
        assertThat(jdbc().sql("select count(*) from audit.event where action = 'login' and actor = ?")
                .param(clientId).query(Integer.class).single()).isEqualTo(1);
        HttpResponse<String> refused = http().send(HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/token"))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString((clientId + ":wrong")
                        .getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(eventsFor(refused)).singleElement().satisfies(e -> assertThat(e)
                .containsEntry("action", "login_failed").containsEntry("actor", clientId).containsEntry("outcome", "failure"));
    }

    @Test
    void aTokenRevocationIsAudited() throws Exception {
        ServiceClients.Credentials client = serviceClients.create("revoking");
        String issued = tokenFor(client.clientId(), client.clientSecret());
        HttpResponse<String> revoked = http().send(HttpRequest.newBuilder(URI.create(baseUrl() + "/oauth2/revoke"))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString((client.clientId() + ":"
                        + client.clientSecret()).getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("token=" + issued)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(revoked.statusCode()).isEqualTo(200);
        assertThat(eventsFor(revoked)).singleElement().satisfies(e -> assertThat(e)
                .containsEntry("action", "token_revoked").containsEntry("actor", client.clientId()));
    }

    @Test
    void aPurposeOfUseHeaderIsRecordedWhenItIsACode() {
        String id = createPatient(family);
        HttpResponse<String> read = call(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + id))
                .header("X-Purpose-Of-Use", "TREAT").GET());
        assertThat((String) eventsFor(read).get(0).get("body")).contains("\"purpose_of_use\":\"TREAT\"");
        HttpResponse<String> prose = call(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + id))
                .header("X-Purpose-Of-Use", "checking on my neighbour").GET());
        assertThat((String) eventsFor(prose).get(0).get("body")).contains("\"purpose_of_use\":null");
    }

    @Test
    void withoutADurableAuditEventNoRecordLeavesAndNothingChanges() throws SQLException {
        String id = createPatient(family);
        int before = jdbc().sql("select count(*) from phi.resource").query(Integer.class).single();
        try (Connection owner = DriverManager.getConnection(url, DevDatabase.OWNER, "")) {
            owner.createStatement().execute("revoke insert on audit.event from " + DevDatabase.PHI_ROLE);
            try {
                HttpResponse<String> read = call(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + id)).GET());
                assertThat(read.statusCode()).isEqualTo(503);
                assertThat(read.body()).contains("OperationOutcome").doesNotContain(family);

                HttpResponse<String> search = call(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient?family="
                        + family)).GET());
                assertThat(search.statusCode()).isEqualTo(503);
                assertThat(search.body()).doesNotContain(family);

                HttpResponse<String> create = call(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient"))
                        .header("Content-Type", "application/fhir+json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\"}")));
                assertThat(create.statusCode()).isEqualTo(503);
                assertThat(jdbc().sql("select count(*) from phi.resource").query(Integer.class).single()).isEqualTo(before);
            } finally {
                owner.createStatement().execute("grant insert on audit.event to " + DevDatabase.PHI_ROLE);
            }
        }
        assertThat(call(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + id)).GET()).statusCode()).isEqualTo(200);
    }

    @Test
    void auditEventsCannotBeUpdatedDeletedOrTruncatedEvenByTheOwner() throws SQLException {
        createPatient(family);
        try (Connection owner = DriverManager.getConnection(url, DevDatabase.OWNER, "")) {
            for (String change : List.of("update audit.event set actor = 'someone-else'", "delete from audit.event",
                    "truncate audit.event")) {
                assertThatThrownBy(() -> owner.createStatement().execute(change))
                        .isInstanceOf(SQLException.class).hasMessageContaining("append-only");
            }
        }
    }

    private String createPatient(String familyName) {
        HttpResponse<String> created = call(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\""
                        + familyName + "\"}]}")));
        assertThat(created.statusCode()).isEqualTo(201);
        Matcher m = Pattern.compile("\"id\":\"([0-9a-f-]{36})\"").matcher(created.body());
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    private HttpResponse<String> call(HttpRequest.Builder request) {
        try {
            return http().send(request.header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private List<Map<String, Object>> eventsFor(HttpResponse<String> response) {
        String requestId = response.headers().firstValue("X-Request-Id").orElseThrow();
        List<Map<String, Object>> rows = new ArrayList<>();
        jdbc().sql("select actor, action, outcome, patient, convert_from(body, 'UTF8') as body from audit.event "
                        + "where convert_from(body, 'UTF8')::jsonb ->> 'request_id' = ? order by id")
                .param(requestId)
                .query((rs, n) -> {
                    Map<String, Object> row = new java.util.HashMap<>();
                    row.put("actor", rs.getString(1));
                    row.put("action", rs.getString(2));
                    row.put("outcome", rs.getString(3));
                    row.put("patient", rs.getString(4));
                    row.put("body", rs.getString(5));
                    return row;
                })
                .list()
                .forEach(rows::add);
        return rows;
    }

    private JdbcClient jdbc() {
        try {
            return JdbcClient.create(new org.springframework.jdbc.datasource.SingleConnectionDataSource(
                    DriverManager.getConnection(url, DevDatabase.OWNER, ""), true));
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
