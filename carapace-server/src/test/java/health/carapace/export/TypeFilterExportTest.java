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
import health.carapace.testing.TestPolicy;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.r4.model.Group;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Bulk Data {@code _typeFilter} (issue #18, ADR 0027): criteria the search serves for a type are
 * applied to the export (ORed between filters of one type, a type without a filter is not
 * narrowed); anything else is refused at kick-off with 400 and an OperationOutcome that lists the
 * parameters the type can use, echoing nothing and storing nothing. The filters (search values)
 * are kept only encrypted.
 */
@org.junit.jupiter.api.extension.ExtendWith(org.springframework.boot.test.system.OutputCaptureExtension.class)
class TypeFilterExportTest extends IntegrationTest {

    private static final String LOINC = "http://loinc.org";

    private ECKey key;
    private String clientId;
    private String groupId;
    private String marker;
    private final Map<String, String> observations = new LinkedHashMap<>();

    @BeforeEach
    void setUp() throws Exception {
        key = new ECKeyGenerator(Curve.P_384).keyID("k1").generate();
        clientId = serviceClients.createBackend("filter-bulk", Set.of(TestPolicy.EVERYTHING), List.of("system/*.rs"),
                new JWKSet(key.toPublicJWK()).toString(), null);
        marker = "Filter" + UUID.randomUUID().toString().replace("-", "");
        Patient patient = new Patient();
        patient.addName().setFamily(marker);
        String patientId = fhirClient().create().resource(patient).execute().getId().getIdPart();
        observation(patientId, "a", "1111-1", Observation.ObservationStatus.FINAL);
        observation(patientId, "b", "2222-2", Observation.ObservationStatus.FINAL);
        observation(patientId, "c", "2222-2", Observation.ObservationStatus.AMENDED);
        observation(patientId, "d", "3333-3", Observation.ObservationStatus.FINAL);
        // the export covers this test's patient only
        Group group = new Group();
        group.setType(Group.GroupType.PERSON).setActual(true);
        group.addMember().setEntity(new Reference("Patient/" + patientId));
        groupId = fhirClient().create().resource(group).execute().getId().getIdPart();
    }

    private void observation(String patientId, String name, String code, Observation.ObservationStatus status) {
        Observation observation = new Observation();
        observation.setStatus(status);
        observation.getCode().addCoding().setSystem(LOINC).setCode(code);
        observation.getCode().setText(marker + " " + name);
        observation.setSubject(new Reference("Patient/" + patientId));
        observations.put(name, fhirClient().create().resource(observation).execute().getId().getIdPart());
    }

    private String backendToken() throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES384).keyID("k1").type(JOSEObjectType.JWT).build(),
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

    /** A _typeFilter value: the query's own reserved characters percent-encoded, then the whole encoded again. */
    private static String filter(String type, String... nameValues) {
        StringBuilder query = new StringBuilder(type).append('?');
        for (int i = 0; i < nameValues.length; i += 2) {
            query.append(i == 0 ? "" : "&").append(nameValues[i]).append('=')
                    .append(URLEncoder.encode(nameValues[i + 1], StandardCharsets.UTF_8));
        }
        return URLEncoder.encode(query.toString(), StandardCharsets.UTF_8);
    }

    private HttpResponse<String> kickOff(String token, String query) {
        return sendWithoutToken(HttpRequest.newBuilder(java.net.URI.create(fhirBase() + "/Group/" + groupId + "/$export?"
                + query)).header("Authorization", "Bearer " + token).header("Prefer", "respond-async").GET());
    }

    private HttpResponse<String> get(String url, String token) {
        return sendWithoutToken(HttpRequest.newBuilder(java.net.URI.create(url)).header("Authorization", "Bearer " + token)
                .GET());
    }

    @Test
    void servableCriteriaAreAppliedOredPerTypeAndKeptOnlyEncrypted(org.springframework.boot.test.system.CapturedOutput log)
            throws Exception {
        String token = backendToken();
        HttpResponse<String> kickOff = kickOff(token, "_type=Patient,Observation&_typeFilter="
                + filter("Observation", "code", LOINC + "|1111-1") + "&_typeFilter="
                + filter("Observation", "code", LOINC + "|2222-2", "status", "amended"));
        assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
        String status = kickOff.headers().firstValue("Content-Location").orElseThrow();
        UUID job = UUID.fromString(status.substring(status.lastIndexOf('/') + 1));
        byte[] sealed = JdbcClient.create(dataSource).sql("select type_filter from export.job where id = ?").param(job)
                .query(byte[].class).single();
        assertThat(new String(sealed, StandardCharsets.ISO_8859_1)).doesNotContain("1111-1").doesNotContain("loinc")
                .doesNotContain("amended");

        HttpResponse<String> done = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> get(status, token), r -> r.statusCode() != 202);
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        assertThat(done.body()).doesNotContain("1111-1").doesNotContain("typeFilter");
        StringBuilder observationLines = new StringBuilder();
        StringBuilder patientLines = new StringBuilder();
        for (Object entry : (List<?>) SmartAppBrowser.json(done).get("output")) {
            String body = get((String) ((Map<?, ?>) entry).get("url"), token).body();
            ("Observation".equals(((Map<?, ?>) entry).get("type")) ? observationLines : patientLines).append(body);
        }
        assertThat(observationLines.toString())
                .contains("\"id\":\"" + observations.get("a") + "\"")
                .contains("\"id\":\"" + observations.get("c") + "\"")
                .doesNotContain(observations.get("b"))
                .doesNotContain(observations.get("d"));
        assertThat(patientLines.toString()).as("a type without a filter is not narrowed").contains(marker);
        assertThat(log.getAll()).doesNotContain("1111-1").doesNotContain(marker);
    }

    @Test
    void criteriaTheSearchCannotServeAreRefusedAtKickOffNamingWhatCanBeUsed() throws Exception {
        String token = backendToken();
        JdbcClient db = JdbcClient.create(dataSource);
        long before = db.sql("select count(*) from export.job").query(Long.class).single();
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("_type=Observation&_typeFilter=" + filter("Observation", "nonsense", "Secret1"), "code");
        refused.put("_type=Observation&_typeFilter=" + filter("Observation", "patient", "Patient/Secret1"), "code");
        refused.put("_type=Observation&_typeFilter=" + filter("Observation", "_sort", "Secret1"), "code");
        refused.put("_type=Observation&_typeFilter=" + filter("Observation", "date", "Secret1"), "date");
        refused.put("_type=Patient&_typeFilter=" + filter("Observation", "code", "Secret1"), "_type");
        refused.put("_type=Observation&_typeFilter=Observation", "Type?parameter=value");
        refused.put("_type=Observation&_typeFilter=" + filter("Nonsense", "code", "Secret1"), "_type");
        for (var refusal : refused.entrySet()) {
            HttpResponse<String> answer = kickOff(token, refusal.getKey());
            assertThat(answer.statusCode()).as(refusal.getKey()).isEqualTo(400);
            String diagnostics = Refusals.outcomeOf(answer).getIssueFirstRep().getDiagnostics();
            assertThat(diagnostics).as(refusal.getKey()).contains(refusal.getValue());
            assertThat(answer.body()).doesNotContain("Secret1").doesNotContain("Nonsense").doesNotContain("nonsense");
        }
        assertThat(db.sql("select count(*) from export.job").query(Long.class).single()).isEqualTo(before);
    }
}
