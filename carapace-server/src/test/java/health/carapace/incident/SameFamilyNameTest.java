package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.ServiceClients;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * {@code same-family-name} through the real server: the principal's family name is given once to
 * the privacy register (only its blind-index token is kept) and compared with the tokens search
 * already stores for the patients it opens.
 */
class SameFamilyNameTest extends IncidentTesting {

    @Test
    void openingAPatientWhoSharesTheFamilyNameIsFlaggedAndAnotherFamilyIsNot() {
        ServiceClients.Credentials clerk = client("family-clerk", TestPolicy.EVERYTHING);
        String token = tokenFor(clerk.clientId(), clerk.clientSecret());
        String relative = createNamedPatient("Quaglieri", "Ottavio");
        String stranger = createNamedPatient("Abernathy", "Ruth");
        HttpResponse<String> set = putJson(officer(), "/admin/privacy/principals/" + clerk.clientId() + "/family-name",
                "{\"familyName\":\"QUAGLIERI\"}");
        assertThat(set.statusCode()).isEqualTo(200);
        assertThat(set.body()).doesNotContainIgnoringCase("quaglieri");

        assertThat(read(token, stranger).statusCode()).isEqualTo(200);
        drainDetectors();
        assertThat(incidentsOf("same-family-name", clerk.clientId())).as("another family").isEmpty();

        assertThat(read(token, relative).statusCode()).isEqualTo(200);
        Incident incident = awaitIncident("same-family-name", clerk.clientId());
        Incident shown = incidents.find(incident.id()).orElseThrow();
        assertThat(shown.patients()).containsExactly("Patient/" + relative);
        assertThat(shown.severity()).isEqualTo(Severity.LOW);
    }

    @Test
    void aPrincipalWithoutAFamilyNameIsNeverFlagged() {
        ServiceClients.Credentials other = client("family-unset", TestPolicy.EVERYTHING);
        String token = tokenFor(other.clientId(), other.clientSecret());
        String patient = createNamedPatient("Quaglieri", "Livia");
        assertThat(read(token, patient).statusCode()).isEqualTo(200);
        drainDetectors();
        assertThat(incidentsOf("same-family-name", other.clientId())).isEmpty();
    }

    @Test
    void aFamilyNameTooShortToCompareOrMalformedIsRefusedWithoutEchoAndStoresNothing() {
        ServiceClients.Credentials clerk = client("family-refused", TestPolicy.EVERYTHING);
        String path = "/admin/privacy/principals/" + clerk.clientId() + "/family-name";
        HttpResponse<String> tooShort = putJson(officer(), path, "{\"familyName\":\"Qx\"}");
        assertThat(tooShort.statusCode()).isEqualTo(400);
        assertThat(tooShort.body()).contains("OperationOutcome").doesNotContain("\"Qx\"");
        HttpResponse<String> unknownField = putJson(officer(), path, "{\"name\":\"Zyxwvutsr\"}");
        assertThat(unknownField.statusCode()).isEqualTo(400);
        assertThat(unknownField.body()).doesNotContain("Zyxwvutsr");
        HttpResponse<String> badPrincipal = putJson(officer(), "/admin/privacy/principals/%20x/family-name",
                "{\"familyName\":\"Zyxwvutsr\"}");
        assertThat(badPrincipal.statusCode()).isEqualTo(400);
        HttpResponse<String> notAnOfficer = putJson(tokenFor(clerk.clientId(), clerk.clientSecret()), path,
                "{\"familyName\":\"Zyxwvutsr\"}");
        assertThat(notAnOfficer.statusCode()).isEqualTo(403);
        assertThat(org.springframework.jdbc.core.simple.JdbcClient.create(dataSource).sql("select count(*) from incident.principal_link where principal = ? and family_token is not null")
                .param(clerk.clientId()).query(Long.class).single()).isZero();
    }

    private String createNamedPatient(String family, String given) {
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"active\":true,\"name\":[{"
                        + "\"family\":\"" + family + "\",\"given\":[\"" + given + "\"]}]}")));
        assertThat(created.statusCode()).isEqualTo(201);
        return fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
    }
}
