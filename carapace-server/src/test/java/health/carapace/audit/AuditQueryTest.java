package health.carapace.audit;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.ServiceClients;
import health.carapace.testing.Fakes;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestPolicy;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.Test;

/** Investigators with view:audit read the trail as BALP AuditEvents and get the accounting of disclosures. */
class AuditQueryTest extends IntegrationTest {

    private final String family = "Queried" + Fakes.letters(8);

    @Test
    void anInvestigatorSeesWhoReadAPatientAndWhatWasSearched() throws Exception {
        ServiceClients.Credentials clinician = client("clinician", TestPolicy.EVERYTHING);
        String clinicianToken = tokenFor(clinician.clientId(), clinician.clientSecret());
        String patient = createPatient(clinicianToken);
        call(clinicianToken, HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + patient)).GET());
        String query = "family=" + URLEncoder.encode(family, StandardCharsets.UTF_8);
        call(clinicianToken, HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient?" + query)).GET());

        String investigator = investigatorToken();
        HttpResponse<String> trail = call(investigator, HttpRequest.newBuilder(
                URI.create(fhirBase() + "/AuditEvent?patient=Patient/" + patient)).GET());
        assertThat(trail.statusCode()).isEqualTo(200);
        Bundle bundle = fhir.newJsonParser().parseResource(Bundle.class, trail.body());
        assertThat(bundle.getEntry()).extracting(e -> ((AuditEvent) e.getResource()).getAction().toCode())
                .contains("C", "R");
        AuditEvent read = bundle.getEntry().stream().map(e -> (AuditEvent) e.getResource())
                .filter(e -> e.getAction() == AuditEvent.AuditEventAction.R).findFirst().orElseThrow();
        assertThat(read.getMeta().getProfile().get(0).getValue()).endsWith("IHE.BasicAudit.PatientRead");
        assertThat(read.getAgentFirstRep().getWho().getIdentifier().getValue()).isEqualTo(clinician.clientId());
        assertThat(read.getEntity()).anySatisfy(entity ->
                assertThat(entity.getWhat().getReference()).isEqualTo("Patient/" + patient));

        HttpResponse<String> searches = call(investigator, HttpRequest.newBuilder(URI.create(fhirBase()
                + "/AuditEvent?action=E&agent=" + clinician.clientId())).GET());
        Bundle searched = fhir.newJsonParser().parseResource(Bundle.class, searches.body());
        assertThat(searched.getEntry()).anySatisfy(e -> assertThat(((AuditEvent) e.getResource()).getEntity())
                .anySatisfy(entity -> assertThat(new String(entity.getQuery(), StandardCharsets.UTF_8)).isEqualTo(query)));
    }

    @Test
    void withoutViewAuditTheTrailIsRefused() {
        HttpResponse<String> refused = send(HttpRequest.newBuilder(URI.create(fhirBase() + "/AuditEvent")).GET());
        assertThat(refused.statusCode()).isEqualTo(403);
        // decided by the access policy before the handler: no role of the caller grants view:audit
        assertThat(refused.body()).contains("OperationOutcome").contains("no-permission");
        assertThat(send(HttpRequest.newBuilder(URI.create(baseUrl() + "/admin/audit/disclosures?patient=x")).GET())
                .statusCode()).isEqualTo(403);
    }

    @Test
    void theAccountingOfDisclosuresListsEveryAccessAsJsonAndCsv() throws Exception {
        ServiceClients.Credentials clinician = client("clinician", TestPolicy.EVERYTHING);
        String clinicianToken = tokenFor(clinician.clientId(), clinician.clientSecret());
        String patient = createPatient(clinicianToken);
        call(clinicianToken, HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + patient))
                .header("X-Purpose-Of-Use", "TREAT").GET());

        String investigator = investigatorToken();
        HttpResponse<String> json = call(investigator, HttpRequest.newBuilder(URI.create(baseUrl()
                + "/admin/audit/disclosures?patient=" + patient)).GET());
        assertThat(json.statusCode()).isEqualTo(200);
        assertThat(json.body()).contains("\"patient\":\"Patient/" + patient + "\"")
                .contains("\"recipient\":\"" + clinician.clientId() + "\"")
                .contains("\"description\":\"viewed /fhir/Patient/" + patient + "\"")
                .contains("\"purpose\":\"TREAT\"").contains("created /fhir/Patient/" + patient)
                .doesNotContain(family);
        HttpResponse<String> notAnId = call(investigator, HttpRequest.newBuilder(URI.create(baseUrl()
                + "/admin/audit/disclosures?patient=" + family)).GET());
        assertThat(notAnId.statusCode()).isEqualTo(400);
        assertThat(notAnId.body()).doesNotContain(family);
        HttpResponse<String> csv = call(investigator, HttpRequest.newBuilder(URI.create(baseUrl()
                + "/admin/audit/disclosures?patient=" + patient + "&format=csv")).GET());
        assertThat(csv.body().lines().findFirst().orElseThrow()).isEqualTo("date,recipient,description,purpose");
        assertThat(csv.body().lines().count()).isEqualTo(3);
    }

    private String investigatorToken() {
        ServiceClients.Credentials auditor = serviceClients.create("investigator", Set.of("admin"));
        return tokenFor(auditor.clientId(), auditor.clientSecret());
    }

    private String createPatient(String token) throws Exception {
        HttpResponse<String> created = call(token, HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\""
                        + family + "\"}]}")));
        Matcher m = Pattern.compile("\"id\":\"([0-9a-f-]{36})\"").matcher(created.body());
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    private HttpResponse<String> call(String token, HttpRequest.Builder request) throws Exception {
        return http().send(request.header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
    }
}
