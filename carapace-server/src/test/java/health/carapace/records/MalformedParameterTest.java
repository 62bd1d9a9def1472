package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.audit.AuditQueries;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestPolicy;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Every FHIR interaction is decided before its parameters are parsed: a caller without the
 * permission learns nothing from a malformed parameter (403, audited as denied, never a 500 from
 * the parser), and a permitted caller's malformed parameter is a 400, never a 500. Neither
 * answer echoes the value sent.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MalformedParameterTest extends IntegrationTest {

    @Autowired
    private AuditQueries auditQueries;

    private String auditor;
    private ServiceClients.Credentials auditorClient;
    private String clinician;
    private ServiceClients.Credentials clinicianClient;

    @BeforeAll
    void callers() {
        // The auditor holds view:audit only (no record types); the clinician every record type but not view:audit.
        auditorClient = client("malformed-auditor", TestPolicy.AUDITOR);
        auditor = tokenFor(auditorClient.clientId(), auditorClient.clientSecret());
        clinicianClient = client("malformed-clinician", TestPolicy.EVERYTHING);
        clinician = tokenFor(clinicianClient.clientId(), clinicianClient.clientSecret());
    }

    /**
     * A type, a parameter, a value that cannot be read as that parameter, and the status a caller
     * who may search gets: 400 (invalid, or not supported for a parameter that is not served), or
     * 200 where the value is well-formed but matches nothing.
     */
    @ParameterizedTest(name = "{0}?{1}={2}")
    @CsvSource({
        "AuditEvent, date, 2026-13-45, 400, INVALID",
        "AuditEvent, date, garbage, 400, INVALID",
        "AuditEvent, date, ge2026-01-01T25:61:00Z, 400, INVALID",
        "AuditEvent, patient, Patient/x/y, 400, INVALID",
        "AuditEvent, action, X, 400, INVALID",
        "AuditEvent, _count, abc, 400, INVALID",
        "AuditEvent, _count, 99999999999999999999, 400, INVALID",
        "AuditEvent, _lastUpdated, garbage, 400, INVALID",
        "AuditEvent, _id, '#%', 400, INVALID",
        "Patient, birthdate, 2026-13-45, 400, INVALID",
        "Patient, _count, abc, 400, INVALID",
        "Patient, _count, -1, 400, INVALID",
        "Patient, _count, 99999999999999999999, 400, INVALID",
        "Patient, _lastUpdated, garbage, 400, INVALID",
        "Patient, _id, not-a-uuid-%, 200, -",
        "Observation, date, ge2026-13-45, 400, INVALID",
        "Observation, value-quantity, abc|def|, 400, NOTSUPPORTED",
        "Observation, code, '|||', 200, -",
        "Encounter, date, garbage, 400, INVALID",
    })
    void aMalformedParameterIsRefusedWith403WithoutThePermissionAndNever500WithIt(String type, String parameter,
            String value, int withPermissionStatus, String code) {
        String query = "/fhir/" + type + "?" + parameter + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
        boolean audit = type.equals("AuditEvent");
        String withoutPermission = audit ? clinician : auditor;
        ServiceClients.Credentials refusedClient = audit ? clinicianClient : auditorClient;
        String withPermission = audit ? auditor : clinician;
        int deniedBefore = denied(refusedClient);

        HttpResponse<String> refused = get(withoutPermission, query);

        assertThat(refused.statusCode()).as("without the permission; body: %s", start(refused)).isEqualTo(403);
        assertThat(Refusals.outcomeOf(refused).getIssueFirstRep().getCode()).isEqualTo(OperationOutcome.IssueType.FORBIDDEN);
        assertNoEcho(refused, value);
        assertThat(denied(refusedClient)).as("denied events of the caller").isEqualTo(deniedBefore + 1);

        HttpResponse<String> answered = get(withPermission, query);

        assertThat(answered.statusCode()).as("with the permission; body: %s", start(answered))
                .isEqualTo(withPermissionStatus);
        if (withPermissionStatus == 400) {
            assertThat(Refusals.outcomeOf(answered).getIssueFirstRep().getCode())
                    .as("an unserved parameter is not supported, a served one's bad value invalid")
                    .isEqualTo(OperationOutcome.IssueType.valueOf(code));
            assertNoEcho(answered, value);
        }
    }

    private static String start(HttpResponse<String> response) {
        return response.body().substring(0, Math.min(300, response.body().length()));
    }

    private HttpResponse<String> get(String token, String path) {
        return sendWithoutToken(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + token).GET());
    }

    private int denied(ServiceClients.Credentials client) {
        return auditQueries.search(new AuditQueries.Criteria(null, client.clientId(), null, null, List.of("denied"),
                false, 1000)).size();
    }

    private static void assertNoEcho(HttpResponse<String> response, String value) {
        if (value.length() > 3) {
            assertThat(response.body()).as("response body").doesNotContain(value);
            response.headers().map().forEach((name, values) -> values.forEach(headerValue ->
                    assertThat(headerValue).as("header %s", name).doesNotContain(value)));
        }
    }
}
