package health.carapace.records;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.ServiceClients;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A caller who may not break glass at all (no role that reads a Patient under emergency access,
 * or not from this address) learns nothing from {@code $break-glass} or {@code $break-glass-close}:
 * the same audited 403 for a patient that exists, one that does not, and a malformed body, and
 * nothing is stored. Found in review (after issue 12): such a caller got 403 for an existing
 * patient and 404 for an unknown id (an existence oracle), 200 from {@code $break-glass-close} for
 * an existing patient, and 400s describing the parameters.
 */
class BreakGlassIsDecidedBeforeThePatientIsLookedUpTest extends IntegrationTest {

    private static final String[] MALFORMED = {"{\"resourceType\":\"Parameters\"}", parameters("Patient/zz"),
            "{\"resourceType\":\"Patient\"}", "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"patient\"}]}",
            "not json"};

    @Test
    void aCallerWhoCannotBreakGlassGetsTheSame403ForAnExistingAnUnknownPatientAndAMalformedBody() {
        String existing = created();
        String unknown = UUID.randomUUID().toString();
        for (String role : new String[] {TestPolicy.AUDITOR, TestPolicy.REMOTE}) {
            ServiceClients.Credentials client = client("no-break-glass-" + role, role);
            String token = tokenFor(client.clientId(), client.clientSecret());
            for (String operation : new String[] {"$break-glass", "$break-glass-close"}) {
                for (String patient : new String[] {existing, unknown}) {
                    assertForbidden(post(token, operation, parameters("Patient/" + patient)),
                            role + " " + operation + (patient.equals(existing) ? " existing" : " unknown"));
                }
                for (String malformed : MALFORMED) {
                    assertForbidden(post(token, operation, malformed), role + " " + operation + " " + malformed);
                }
            }
            assertThat(JdbcClient.create(dataSource).sql("select count(*) from iam.break_glass where principal = ?")
                    .param(client.clientId()).query(Long.class).single()).isZero();
        }
    }

    @Test
    void aCallerWhoMayBreakGlassGets404ForAnUnknownPatientAnd400ForAMalformedBody() {
        assertThat(post(token(), "$break-glass", parameters("Patient/" + UUID.randomUUID())).statusCode()).isEqualTo(404);
        assertThat(post(token(), "$break-glass-close", parameters("Patient/" + UUID.randomUUID())).statusCode())
                .isEqualTo(404);
        assertThat(post(token(), "$break-glass", "{\"resourceType\":\"Parameters\"}").statusCode()).isEqualTo(400);
    }

    private static void assertForbidden(HttpResponse<String> response, String what) {
        assertThat(response.statusCode()).as(what).isEqualTo(403);
        assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getCode()).as(what).isEqualTo(IssueType.FORBIDDEN);
        assertThat(response.body()).as(what).doesNotContain("Parameter patient").doesNotContain("characters is required");
    }

    private String created() {
        HttpResponse<String> response = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Authorization", "Bearer " + token()).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\"}")));
        assertThat(response.statusCode()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(response.body()).getIdElement().getIdPart();
    }

    private static String parameters(String reference) {
        return "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"patient\",\"valueReference\":{\"reference\":\""
                + reference + "\"}},{\"name\":\"reason\",\"valueString\":\"review test\"}]}";
    }

    private HttpResponse<String> post(String token, String operation, String body) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/" + operation))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }
}
