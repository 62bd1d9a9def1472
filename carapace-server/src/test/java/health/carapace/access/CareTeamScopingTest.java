package health.carapace.access;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.ServiceClients;
import health.carapace.signin.Users;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A person signed in with password and TOTP, acting as a Practitioner, sees a patient exactly
 * while a CareTeam or an Encounter links that Practitioner to the patient: the relationship is
 * written with every CareTeam/Encounter write, in its transaction, and reads and searches follow
 * it on the next request.
 */
class CareTeamScopingTest extends IntegrationTest {

    private static final String PASSWORD = "correct horse battery staple";

    @Autowired
    private Users users;

    @Test
    void careTeamsAndEncountersOpenAndCloseAPractitionersAccessToTheirPatient() {
        String practitioner = create("Practitioner", "{\"resourceType\":\"Practitioner\",\"active\":true}");
        String colleague = create("Practitioner", "{\"resourceType\":\"Practitioner\",\"active\":true}");
        String patientD = create("Patient", "{\"resourceType\":\"Patient\",\"active\":true}");
        String patientE = create("Patient", "{\"resourceType\":\"Patient\",\"active\":true}");

        String userName = "doc-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(userName, Set.of(TestPolicy.CLINICIAN), practitioner);
        SignInBrowser browser = new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
        String user = browser.firstSignIn(enrolment.link(), userName, PASSWORD).accessToken();
        String both = "/fhir/Patient?_id=" + patientD + "," + patientE;

        assertRefused(browser.fhirGet("/fhir/Patient/" + patientD, user));
        assertThat(total(browser.fhirGet(both, user))).isZero();
        assertThat(total(browser.fhirGet(both, token()))).isEqualTo(2);

        String team = create("CareTeam", careTeam(patientD, practitioner, "active"));
        assertThat(relationships("CareTeam/" + team)).containsExactly("Practitioner/" + practitioner + " Patient/" + patientD);
        assertThat(browser.fhirGet("/fhir/Patient/" + patientD, user).statusCode()).isEqualTo(200);
        assertThat(total(browser.fhirGet(both, user))).isEqualTo(1);

        String encounter = create("Encounter", encounter(patientE, practitioner, "in-progress"));
        assertThat(browser.fhirGet("/fhir/Patient/" + patientE, user).statusCode()).isEqualTo(200);
        assertThat(total(browser.fhirGet(both, user))).isEqualTo(2);
        update("Encounter/" + encounter, encounter(patientE, practitioner, "cancelled").replace("{\"resourceType\":"
                + "\"Encounter\",", "{\"resourceType\":\"Encounter\",\"id\":\"" + encounter + "\","));
        assertThat(relationships("Encounter/" + encounter)).isEmpty();
        assertRefused(browser.fhirGet("/fhir/Patient/" + patientE, user));

        // the team changes hands: the colleague in, our practitioner out
        update("CareTeam/" + team, careTeam(patientD, colleague, "active").replace("{\"resourceType\":\"CareTeam\",",
                "{\"resourceType\":\"CareTeam\",\"id\":\"" + team + "\","));
        assertThat(relationships("CareTeam/" + team)).containsExactly("Practitioner/" + colleague + " Patient/" + patientD);
        assertRefused(browser.fhirGet("/fhir/Patient/" + patientD, user));

        // a transaction that fails stores neither the team nor its relationship
        HttpResponse<String> failed = post("", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + "{\"request\":{\"method\":\"POST\",\"url\":\"CareTeam\"},\"resource\":" + careTeam(patientD, practitioner, "active")
                + "},{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/" + UUID.randomUUID() + "\"}}]}");
        assertThat(failed.statusCode()).isEqualTo(404);
        assertRefused(browser.fhirGet("/fhir/Patient/" + patientD, user));

        // a deleted encounter asserts nothing either
        String second = create("Encounter", encounter(patientD, practitioner, "finished"));
        assertThat(browser.fhirGet("/fhir/Patient/" + patientD, user).statusCode()).isEqualTo(200);
        assertThat(send(HttpRequest.newBuilder(uri("/fhir/Encounter/" + second)).DELETE()).statusCode()).isEqualTo(204);
        assertThat(relationships("Encounter/" + second)).isEmpty();
        assertRefused(browser.fhirGet("/fhir/Patient/" + patientD, user));
    }

    /**
     * Emergency access is time-boxed: it must not let the caller write a CareTeam or Encounter that
     * names themselves and so outlives the grant as a standing care relationship.
     */
    @Test
    void breakGlassCannotBeTurnedIntoAStandingCareRelationshipForTheCallerThemselves() {
        ServiceClients.Credentials admin = serviceClients.create("care-admin", Set.of("admin"));
        String adminToken = tokenFor(admin.clientId(), admin.clientSecret());
        String role = "ward-manager-" + UUID.randomUUID().toString().substring(0, 8);
        HttpResponse<String> defined = sendWithoutToken(HttpRequest.newBuilder(uri("/admin/roles/" + role))
                .header("Authorization", "Bearer " + adminToken).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"role\":\"" + role + "\",\"permissions\":[\"view:demographics\","
                        + "\"view:clinical_records\",\"manage:care_relationships\"],"
                        + "\"constraints\":{\"ip_range\":[\"127.0.0.0/8\",\"::1/128\"]}}")));
        assertThat(defined.statusCode()).isEqualTo(201);
        String practitioner = create("Practitioner", "{\"resourceType\":\"Practitioner\",\"active\":true}");
        String colleague = create("Practitioner", "{\"resourceType\":\"Practitioner\",\"active\":true}");
        String patient = create("Patient", "{\"resourceType\":\"Patient\",\"active\":true}");
        String userName = "ward-" + UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(userName, Set.of(role), practitioner);
        SignInBrowser browser = new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()));
        String user = browser.firstSignIn(enrolment.link(), userName, PASSWORD).accessToken();

        HttpResponse<String> opened = as(user, HttpRequest.newBuilder(uri("/fhir/$break-glass"))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"patient\",\"valueReference\":"
                                + "{\"reference\":\"Patient/" + patient + "\"}},{\"name\":\"reason\",\"valueString\":"
                                + "\"Collapsed in the corridor\"}]}")));
        assertThat(opened.statusCode()).isEqualTo(200);
        assertThat(as(user, HttpRequest.newBuilder(uri("/fhir/Patient/" + patient)).GET()).statusCode()).isEqualTo(200);

        // naming themselves: refused, nothing stored, no relationship
        for (String type : new String[] {"CareTeam", "Encounter"}) {
            String body = type.equals("CareTeam") ? careTeam(patient, practitioner, "active")
                    : encounter(patient, practitioner, "in-progress");
            HttpResponse<String> self = as(user, HttpRequest.newBuilder(uri("/fhir/" + type))
                    .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(body)));
            assertThat(self.statusCode()).as(type).isEqualTo(403);
            assertThat(Refusals.outcomeOf(self).getIssueFirstRep().getDetails().getCodingFirstRep().getCode())
                    .isEqualTo("break-glass-cannot-relate-caller");
        }
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from iam.care_relationship where patient = ?")
                .param("Patient/" + patient).query(Long.class).single()).isZero();
        // recording the care of others (a colleague) stays possible under emergency access
        assertThat(as(user, HttpRequest.newBuilder(uri("/fhir/Encounter")).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(encounter(patient, colleague, "in-progress")))).statusCode())
                .isEqualTo(201);

        // once emergency access ends, so does the user's access to the patient
        assertThat(as(user, HttpRequest.newBuilder(uri("/fhir/$break-glass-close"))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"patient\",\"valueReference\":"
                                + "{\"reference\":\"Patient/" + patient + "\"}}]}"))).statusCode()).isEqualTo(200);
        assertRefused(as(user, HttpRequest.newBuilder(uri("/fhir/Patient/" + patient)).GET()));
    }

    private HttpResponse<String> as(String accessToken, HttpRequest.Builder request) {
        return sendWithoutToken(request.header("Authorization", "Bearer " + accessToken));
    }

    private static String careTeam(String patient, String practitioner, String status) {
        return "{\"resourceType\":\"CareTeam\",\"status\":\"" + status + "\",\"subject\":{\"reference\":\"Patient/" + patient
                + "\"},\"participant\":[{\"member\":{\"reference\":\"Practitioner/" + practitioner + "\"}}]}";
    }

    private static String encounter(String patient, String practitioner, String status) {
        return "{\"resourceType\":\"Encounter\",\"status\":\"" + status + "\",\"class\":{\"system\":"
                + "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"AMB\"},\"subject\":{\"reference\":"
                + "\"Patient/" + patient + "\"},\"participant\":[{\"individual\":{\"reference\":\"Practitioner/"
                + practitioner + "\"}}]}";
    }

    private java.util.List<String> relationships(String source) {
        return JdbcClient.create(dataSource).sql("select member || ' ' || patient from iam.care_relationship where source = ?")
                .param(source).query(String.class).list();
    }

    private static void assertRefused(HttpResponse<String> response) {
        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(Refusals.outcomeOf(response).getIssueFirstRep().getDetails().getCodingFirstRep().getCode())
                .isEqualTo("no-care-relationship");
    }

    private int total(HttpResponse<String> response) {
        assertThat(response.statusCode()).isEqualTo(200);
        return fhir.newJsonParser().parseResource(Bundle.class, response.body()).getTotal();
    }

    private String create(String type, String json) {
        HttpResponse<String> created = post(type, json);
        assertThat(created.statusCode()).as("create " + type).isEqualTo(201);
        return fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
    }

    private void update(String path, String json) {
        assertThat(send(HttpRequest.newBuilder(uri("/fhir/" + path)).header("Content-Type", "application/fhir+json")
                .PUT(HttpRequest.BodyPublishers.ofString(json))).statusCode()).isEqualTo(200);
    }

    private HttpResponse<String> post(String path, String json) {
        return send(HttpRequest.newBuilder(uri("/fhir" + (path.isEmpty() ? "" : "/" + path)))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(json)));
    }
}
