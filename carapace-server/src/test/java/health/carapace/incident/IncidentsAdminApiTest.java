package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.audit.AuditQueries;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.Refusals;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * {@code /admin/incidents} and {@code /admin/privacy}: who may read and change, filters, the state
 * machine with audited transitions, the risk assessment and breach determination, and every class
 * of bad input refused with an OperationOutcome that echoes nothing and changes nothing.
 */
class IncidentsAdminApiTest extends IncidentTesting {

    @Autowired
    AuditQueries auditQueries;

    /** An open self-access incident of a fresh principal. */
    private Incident openIncident() {
        ServiceClients.Credentials nurse = client("admin-api-nurse", TestPolicy.EVERYTHING);
        String patient = createPatient();
        link(nurse.clientId(), patient);
        read(tokenFor(nurse.clientId(), nurse.clientSecret()), patient);
        return awaitIncident("self-access", nurse.clientId());
    }

    private HttpResponse<String> get(String token, String path) {
        return as(token, HttpRequest.newBuilder(uri(path)).GET());
    }

    @Test
    void onlyTheIncidentPermissionsReachTheRoutes() {
        Incident incident = openIncident();
        String admin = tokenWithRoles("incident-roles-admin", "admin");
        assertThat(putJson(admin, "/admin/roles/test-incident-viewer", "{\"role\":\"test-incident-viewer\","
                + "\"permissions\":[\"view:incidents\"],\"constraints\":{\"ip_range\":[\"127.0.0.0/8\",\"::1/128\"]}}")
                .statusCode()).isIn(200, 201);
        String viewer = tokenWithRoles("incident-viewer", "test-incident-viewer");
        String path = "/admin/incidents/" + incident.id();

        assertThat(sendWithoutToken(HttpRequest.newBuilder(uri("/admin/incidents")).GET()).statusCode()).isEqualTo(401);
        assertThat(get(token(), "/admin/incidents").statusCode()).as("records permissions only").isEqualTo(403);
        assertThat(get(viewer, path).statusCode()).isEqualTo(200);
        assertThat(get(admin, path).statusCode()).isEqualTo(200);
        assertThat(postJson(viewer, path + "/acknowledge", "{}").statusCode()).as("view only").isEqualTo(403);
        assertThat(putJson(viewer, "/admin/privacy/patients/" + UUID.randomUUID() + "/flags",
                "{\"vip\":true,\"employee\":false}").statusCode()).isEqualTo(403);
        assertThat(postJson(token(), path + "/acknowledge", "{}").statusCode()).isEqualTo(403);
        assertThat(incidents.find(incident.id()).orElseThrow().state()).isEqualTo(IncidentState.OPEN);
        assertThat(postJson(officer(), path + "/acknowledge", "{}").statusCode()).isEqualTo(200);
    }

    @Test
    void listFiltersByStateDetectorAndPrincipal() {
        Incident incident = openIncident();
        HttpResponse<String> mine = get(officer(), "/admin/incidents?detector=self-access&state=open&principal="
                + incident.principal());
        assertThat(mine.statusCode()).isEqualTo(200);
        assertThat(mine.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/json");
        assertThat(mine.body()).contains(incident.id().toString()).contains("\"isolateBy\"");
        assertThat(get(officer(), "/admin/incidents?detector=bulk-read&principal=" + incident.principal()).body())
                .doesNotContain(incident.id().toString());
        assertThat(get(officer(), "/admin/incidents?state=closed&principal=" + incident.principal()).body())
                .doesNotContain(incident.id().toString());
    }

    @Test
    void transitionsFollowTheStateMachineAndAreAudited() {
        Incident incident = openIncident();
        String path = "/admin/incidents/" + incident.id();
        HttpResponse<String> acknowledged = postJson(officer(), path + "/acknowledge", "");
        assertThat(acknowledged.statusCode()).isEqualTo(200);
        assertThat(acknowledged.body()).contains("\"state\":\"ACKNOWLEDGED\"");
        HttpResponse<String> again = postJson(officer(), path + "/acknowledge", "");
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(Refusals.outcomeOf(again).getIssueFirstRep().getDiagnostics()).contains("acknowledged");

        HttpResponse<String> badResolution = postJson(officer(), path + "/close",
                "{\"state\":\"closed\",\"resolution\":\"Alice Canary-Smith\"}");
        assertThat(badResolution.statusCode()).isEqualTo(400);
        assertThat(badResolution.body()).doesNotContain("Canary");
        assertThat(postJson(officer(), path + "/close", "{\"state\":\"closed\",\"resolution\":\"false-positive\"}")
                .statusCode()).isEqualTo(200);
        assertThat(postJson(officer(), path + "/close", "{\"state\":\"closed\",\"resolution\":\"resolved\"}")
                .statusCode()).as("closed is final").isEqualTo(409);

        Incident closed = incidents.find(incident.id()).orElseThrow();
        assertThat(closed.state()).isEqualTo(IncidentState.CLOSED);
        assertThat(closed.timeline()).extracting(Incident.TimelineEntry::entry)
                .containsExactly("detected", "acknowledged", "closed");
        assertThat(auditQueries.search(new AuditQueries.Criteria(null, null, null, null, List.of("admin_change"), true,
                1000))).filteredOn(e -> e.resource().equals(path)).hasSizeGreaterThanOrEqualTo(3);
    }

    @Test
    void theRiskAssessmentAndTheBreachAreStructuredAndStartTheHipaaClocks() {
        Incident incident = openIncident();
        String path = "/admin/incidents/" + incident.id();
        HttpResponse<String> risk = putJson(officer(), path + "/risk-assessment", "{\"phiInvolved\":\"CLINICAL\","
                + "\"recipient\":\"WORKFORCE_MEMBER\",\"acquisition\":\"VIEWED\",\"mitigation\":\"PARTIALLY\","
                + "\"conclusion\":\"BREACH\"}");
        assertThat(risk.statusCode()).isEqualTo(200);
        HttpResponse<String> freeText = putJson(officer(), path + "/risk-assessment", "{\"phiInvolved\":\"CLINICAL\","
                + "\"recipient\":\"WORKFORCE_MEMBER\",\"acquisition\":\"VIEWED\",\"mitigation\":\"PARTIALLY\","
                + "\"conclusion\":\"BREACH\",\"notes\":\"Jane Canary 1970-01-01\"}");
        assertThat(freeText.statusCode()).as("no free text").isEqualTo(400);
        assertThat(freeText.body()).doesNotContain("Canary").doesNotContain("notes");

        // discovery lies between the first event and the detection (review M7): an incident of March
        org.springframework.jdbc.core.simple.JdbcClient.create(dataSource).sql("update incident.incident set "
                + "first_event_at = timestamptz '2026-03-09 10:00Z', detected_at = timestamptz '2026-03-10 10:00Z' "
                + "where id = ?").param(incident.id()).update();
        assertThat(putJson(officer(), path + "/breach", "{\"discoveredOn\":\"2026-03-11\",\"affected\":620}")
                .statusCode()).as("after the detection: would push the deadlines back").isEqualTo(400);
        assertThat(putJson(officer(), path + "/breach", "{\"discoveredOn\":\"2026-03-08\",\"affected\":620}")
                .statusCode()).as("before anything happened").isEqualTo(400);
        assertThat(incidents.find(incident.id()).orElseThrow().breach()).isNull();
        HttpResponse<String> breach = putJson(officer(), path + "/breach",
                "{\"discoveredOn\":\"2026-03-10\",\"affected\":620,\"residentsByState\":{\"CA\":510,\"NV\":110}}");
        assertThat(breach.statusCode()).isEqualTo(200);
        Incident recorded = incidents.find(incident.id()).orElseThrow();
        assertThat(recorded.clocks().individualsBy()).isEqualTo("2026-05-10T00:00:00Z");
        assertThat(recorded.clocks().hhsBy()).isEqualTo("2026-05-10T00:00:00Z");
        assertThat(recorded.clocks().mediaBy()).isEqualTo("2026-05-10T00:00:00Z");
        assertThat(recorded.risk().conclusion()).isEqualTo(RiskAssessment.Conclusion.BREACH);
        assertThat(recorded.clocks().overdue()).contains("individuals", "hhs", "media");

        assertThat(putJson(officer(), path + "/breach", "{\"discoveredOn\":\"2026-03-10\",\"affected\":0}").statusCode())
                .isEqualTo(400);
        assertThat(putJson(officer(), path + "/breach",
                "{\"discoveredOn\":\"2026-03-10\",\"affected\":10,\"residentsByState\":{\"California\":10}}")
                .statusCode()).isEqualTo(400);
    }

    @Test
    void badInputIsRefusedWithAnOutcomeAndChangesNothing() {
        Incident incident = openIncident();
        String path = "/admin/incidents/" + incident.id();
        HttpResponse<String> unknown = get(officer(), "/admin/incidents/" + UUID.randomUUID());
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(Refusals.outcomeOf(unknown).getIssueFirstRep().getDiagnostics()).contains("No incident");
        assertThat(get(officer(), "/admin/incidents/Canary-Smith").statusCode()).isEqualTo(404);
        assertThat(postJson(officer(), "/admin/incidents/" + UUID.randomUUID() + "/acknowledge", "").statusCode())
                .isEqualTo(404);

        for (String query : new String[] {"state=Canary", "severity=urgent", "since=yesterday", "drill=maybe",
                "limit=0", "limit=100000", "name=Canary", "detector=Canary%20Smith", "state=open&state=closed"}) {
            HttpResponse<String> refused = get(officer(), "/admin/incidents?" + query);
            assertThat(refused.statusCode()).as(query).isEqualTo(400);
            assertThat(refused.body()).as(query).doesNotContain("Canary").doesNotContain("urgent")
                    .doesNotContain("yesterday");
        }

        HttpResponse<String> notJson = as(officer(), HttpRequest.newBuilder(uri(path + "/breach"))
                .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.ofString("Canary")));
        assertThat(notJson.statusCode()).isEqualTo(415);
        HttpResponse<String> malformed = putJson(officer(), path + "/breach", "{\"discoveredOn\":\"Canary\"");
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(malformed.body()).doesNotContain("Canary");
        HttpResponse<String> huge = putJson(officer(), path + "/breach", "{\"x\":\"" + "A".repeat(20_000) + "\"}");
        assertThat(huge.statusCode()).isEqualTo(400);
        assertThat(putJson(officer(), "/admin/privacy/patients/not-a-patient/flags", "{\"vip\":true,\"employee\":false}")
                .statusCode()).isEqualTo(400);
        assertThat(putJson(officer(), "/admin/privacy/principals/Canary%20Smith", "{\"patient\":null}")
                .statusCode()).isEqualTo(400);
        assertThat(putJson(officer(), "/admin/privacy/principals/nurse-x", "{\"patient\":\"Jane Canary\"}")
                .statusCode()).isEqualTo(400);

        Incident after = incidents.find(incident.id()).orElseThrow();
        assertThat(after.breach()).isNull();
        assertThat(after.state()).isEqualTo(IncidentState.OPEN);
        assertThat(JdbcClient.create(dataSource).sql("select count(*) from incident.principal_link where principal = ?")
                .param("nurse-x").query(Long.class).single()).isZero();
    }
}
