package health.carapace.records.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.crypto.RecordCipher;
import health.carapace.testing.IntegrationTest;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Reads load the row once and send the stored JSON as it is when nothing must change (issue 13,
 * ADR 0017). What that must never loosen: a caller without {@code view:ssn} never receives stored
 * bytes that hold an SSN (whether the header says so, or the version predates the header, or an
 * older SSN rule judged it); the formats and shaping parameters still work; and a ciphertext
 * moved to another patient's compartment in the database is never returned under the decision
 * taken for that compartment.
 */
class ReadsServeTheDecidedRowTest extends IntegrationTest {

    private static final String SSN = "871-23-4501";

    @Autowired
    private RecordCipher cipher;

    private String noSsnToken;

    @BeforeEach
    void callerWithoutViewSsn() {
        if (noSsnToken == null) {
            noSsnToken = tokenWithRoles("reads-no-ssn", "records-service");
        }
    }

    @Test
    void aRecordWithoutAnSsnIsSentAsStoredWithTheHeadersOfARead() {
        String id = create("{\"resourceType\":\"Patient\",\"gender\":\"female\",\"birthDate\":\"1970-01-02\"}");

        HttpResponse<String> read = get("/fhir/Patient/" + id, noSsnToken, "application/fhir+json");

        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type)
                .startsWith("application/fhir+json").containsIgnoringCase("charset=utf-8"));
        assertThat(read.headers().firstValue("ETag")).hasValue("W/\"1\"");
        assertThat(read.headers().firstValue("Content-Location")).hasValueSatisfying(location -> assertThat(location)
                .endsWith("/fhir/Patient/" + id + "/_history/1"));
        assertThat(read.headers().firstValue("Last-Modified")).isPresent();
        Patient patient = fhir.newJsonParser().parseResource(Patient.class, read.body());
        assertThat(patient.getIdElement().getIdPart()).isEqualTo(id);
        assertThat(patient.getMeta().getVersionId()).isEqualTo("1");
        assertThat(patient.getBirthDateElement().getValueAsString()).isEqualTo("1970-01-02");
        assertThat(stored(id)).isEqualTo(read.body());
        // HAPI's encoder streams (chunked); the stored bytes go out with their length
        assertThat(read.headers().firstValue("Content-Length")).as("sent as stored").isPresent();
    }

    @Test
    void ifNoneMatchNamingTheVersionIsNotModifiedAsBefore() {
        String id = create("{\"resourceType\":\"Patient\",\"gender\":\"female\"}");

        HttpResponse<String> same = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient/" + id))
                .header("Authorization", "Bearer " + noSsnToken).header("If-None-Match", "W/\"1\"").GET());
        HttpResponse<String> other = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient/" + id))
                .header("Authorization", "Bearer " + noSsnToken).header("If-None-Match", "W/\"2\"").GET());

        assertThat(same.statusCode()).isEqualTo(304);
        assertThat(same.body()).isEmpty();
        assertThat(other.statusCode()).isEqualTo(200);
    }

    @Test
    void formatsAndShapingParametersStillWork() {
        String id = create("{\"resourceType\":\"Patient\",\"gender\":\"male\",\"birthDate\":\"1980-05-06\","
                + "\"name\":[{\"family\":\"Shapedread\"}]}");

        HttpResponse<String> xml = get("/fhir/Patient/" + id, noSsnToken, "application/fhir+xml");
        HttpResponse<String> elements = get("/fhir/Patient/" + id + "?_elements=gender", noSsnToken, "application/fhir+json");
        HttpResponse<String> summary = get("/fhir/Patient/" + id + "?_summary=count", noSsnToken, "application/fhir+json");
        HttpResponse<String> pretty = get("/fhir/Patient/" + id + "?_pretty=true", noSsnToken, "application/fhir+json");

        assertThat(xml.statusCode()).isEqualTo(200);
        assertThat(xml.body()).startsWith("<Patient xmlns=\"http://hl7.org/fhir\">").contains("Shapedread");
        assertThat(elements.statusCode()).isEqualTo(200);
        assertThat(elements.body()).contains("\"gender\":\"male\"").doesNotContain("Shapedread").doesNotContain("1980");
        assertThat(summary.statusCode()).isEqualTo(200);
        assertThat(pretty.body()).contains("\n");
    }

    @Test
    void aRecordHoldingAnSsnIsMaskedForACallerWithoutViewSsnAndSentWhole() {
        String id = create(withSsn());

        assertThat(get("/fhir/Patient/" + id, noSsnToken, "application/fhir+json").body())
                .doesNotContain(SSN).contains("***-**-4501");
        assertThat(get("/fhir/Patient/" + id, token(), "application/fhir+json").body()).contains(SSN);
    }

    @Test
    void aVersionStoredBeforeTheHeaderIsMaskedAsBefore() {
        String id = create(withSsn());
        // As every version was stored before issue 13: the JSON alone, no header.
        reseal(id, stored(id).getBytes(StandardCharsets.UTF_8));

        assertThat(get("/fhir/Patient/" + id, noSsnToken, "application/fhir+json").body())
                .doesNotContain(SSN).contains("***-**-4501");
    }

    @Test
    void aVersionJudgedByAnotherSsnRuleJdkOrHapiIsMaskedWhateverItsHeaderSays() {
        String id = create(withSsn());
        // judged by an older rule, JDK or HAPI, which saw no SSN here
        reseal(id, StoredJson.frame(stored(id).getBytes(StandardCharsets.UTF_8), false, StoredJson.JUDGE + 1));

        assertThat(get("/fhir/Patient/" + id, noSsnToken, "application/fhir+json").body())
                .doesNotContain(SSN).contains("***-**-4501");
    }

    @Test
    void aCiphertextMovedToAnotherPatientsCompartmentIsNeverReturned() {
        String victim = create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Movedvictim\"}]}");
        String other = create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Movedother\"}]}");
        String observation = create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"Movedsecret\"},"
                + "\"subject\":{\"reference\":\"Patient/" + victim + "\"}}");
        // Someone with database access re-labels the victim's observation as the other patient's.
        asOwner("update phi.resource_version set compartment = 'Patient/" + other + "' where resource_id = '" + observation + "'");
        asOwner("update phi.resource set compartment = 'Patient/" + other + "' where resource_id = '" + observation + "'");

        HttpResponse<String> read = get("/fhir/Observation/" + observation, token(), "application/fhir+json");

        assertThat(read.statusCode()).isNotEqualTo(200);
        assertThat(read.body()).doesNotContain("Movedsecret").doesNotContain(victim);
    }

    private static void asOwner(String sql) {
        String url = health.carapace.testing.TestInstallation.properties().get("carapace.db.url").toString();
        try (var connection = java.sql.DriverManager.getConnection(url, health.carapace.platform.dev.DevDatabase.OWNER, "");
                var statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private String withSsn() {
        return "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"http://hl7.org/fhir/sid/us-ssn\",\"value\":\""
                + SSN + "\"}]}";
    }

    private String create(String json) {
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/fhir/" + json.split("\"")[3]))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(json)));
        assertThat(created.statusCode()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
    }

    private HttpResponse<String> get(String path, String token, String accept) {
        return sendWithoutToken(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + token)
                .header("Accept", accept).GET());
    }

    /** The stored JSON of the current version of a Patient, decrypted here. */
    private String stored(String id) {
        var row = row(id);
        byte[] plaintext = cipher.decrypt(row.compartment(), row.ciphertext(),
                RecordStore.associatedData(row.type(), row.id(), row.version(), row.compartment()));
        return new String(StoredJson.unframe(plaintext).json(), StandardCharsets.UTF_8);
    }

    private void reseal(String id, byte[] plaintext) {
        var row = row(id);
        byte[] ciphertext = cipher.encrypt(row.compartment(), plaintext,
                RecordStore.associatedData(row.type(), row.id(), row.version(), row.compartment()));
        JdbcClient.create(dataSource).sql("update phi.resource_version set ciphertext = ? where resource_type = ? "
                + "and resource_id = ? and version = ?").params(ciphertext, row.type(), row.id(), row.version()).update();
    }

    private RecordStore.Row row(String id) {
        return JdbcClient.create(dataSource).sql("""
                select resource_type, resource_id, version, compartment, last_updated, deleted, ciphertext, false
                from phi.resource_version where resource_type = 'Patient' and resource_id = ? order by version desc limit 1""")
                .param(UUID.fromString(id))
                .query((rs, n) -> new RecordStore.Row(rs.getString(1), rs.getObject(2, UUID.class), rs.getLong(3),
                        rs.getString(4), rs.getTimestamp(5).toInstant(), rs.getBoolean(6), rs.getBytes(7), false))
                .single();
    }
}
