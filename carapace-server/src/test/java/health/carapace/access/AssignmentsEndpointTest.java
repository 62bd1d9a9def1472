package health.carapace.access;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.audit.AuditQueries;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** {@code /admin/assignments}: explicit care relationships, managed by holders of manage:users, audited. */
class AssignmentsEndpointTest extends IntegrationTest {

    @Autowired
    AuditQueries auditQueries;

    @Test
    void anAdministratorAssignsAndUnassignsAndEveryoneElseIsRefused() {
        ServiceClients.Credentials clinician = client("assigned-clinician", TestPolicy.CLINICIAN);
        String clinicianToken = tokenFor(clinician.clientId(), clinician.clientSecret());
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"active\":true}")));
        String patient = fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
        String path = "/admin/assignments/" + patient + "/" + clinician.clientId();
        String admin = tokenWithRoles("assignments-admin", "admin"); // the dev role granting manage:users

        HttpResponse<String> refused = call(clinicianToken, HttpRequest.newBuilder(uri(path))
                .PUT(HttpRequest.BodyPublishers.noBody()));
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(Refusals.outcomeOf(refused).getIssueFirstRep().getDiagnostics()).contains("manage:users");
        assertThat(auditQueries.search(new AuditQueries.Criteria(null, clinician.clientId(), null, null,
                List.of("denied"), false, 10))).anySatisfy(e -> assertThat(e.resource()).isEqualTo("/admin/assignments"));
        assertThat(call(clinicianToken, HttpRequest.newBuilder(uri("/fhir/Patient/" + patient)).GET()).statusCode())
                .isEqualTo(403);

        assertThat(call(token(), HttpRequest.newBuilder(uri(path)).PUT(HttpRequest.BodyPublishers.noBody())).statusCode())
                .as("a system client without manage:users").isEqualTo(403);
        assertThat(call(admin, HttpRequest.newBuilder(uri(path)).PUT(HttpRequest.BodyPublishers.noBody())).statusCode())
                .isEqualTo(201);
        assertThat(call(clinicianToken, HttpRequest.newBuilder(uri("/fhir/Patient/" + patient)).GET()).statusCode())
                .isEqualTo(200);
        assertThat(auditQueries.search(new AuditQueries.Criteria("Patient/" + patient, null, null, null,
                List.of("admin_change"), true, 10))).hasSize(1);

        assertThat(call(admin, HttpRequest.newBuilder(uri(path)).DELETE()).statusCode()).isEqualTo(204);
        assertThat(call(clinicianToken, HttpRequest.newBuilder(uri("/fhir/Patient/" + patient)).GET()).statusCode())
                .isEqualTo(403);
        assertThat(call(admin, HttpRequest.newBuilder(uri("/admin/assignments/not-an-id/" + clinician.clientId()))
                .PUT(HttpRequest.BodyPublishers.noBody())).statusCode()).isEqualTo(400);
    }

    private HttpResponse<String> call(String token, HttpRequest.Builder request) {
        return sendWithoutToken(request.header("Authorization", "Bearer " + token));
    }
}
