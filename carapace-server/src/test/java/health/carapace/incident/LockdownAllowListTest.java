package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.ServiceClients;
import health.carapace.signin.Users;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The lockdown's allow list (review H1, M4): duplicates never take the server down, only user
 * accounts holding an administrative permission may be let through, and telehealth (joining a
 * visit, the signaling handshake) is PHI access that the lockdown covers.
 */
class LockdownAllowListTest extends IncidentTesting {

    @Autowired
    Users users;

    private Incident incident(String name) {
        ServiceClients.Credentials snooper = client(name, TestPolicy.EVERYTHING);
        String patient = createPatient();
        link(snooper.clientId(), patient);
        read(tokenFor(snooper.clientId(), snooper.clientSecret()), patient);
        return awaitIncident("self-access", snooper.clientId());
    }

    private String adminUser(String role) {
        String name = "lockdown-" + role + "-" + UUID.randomUUID().toString().substring(0, 8);
        users.create(name, Set.of(role), null);
        return name;
    }

    /** Lifts any lockdown straight in the table, so that a failing test cannot leave the server locked. */
    private void lift(Incident incident) {
        JdbcClient.create(dataSource).sql("update incident.lockdown set active = false, allowed = '{}'").update();
    }

    @Test
    void duplicateNamesInTheAllowListAreStoredOnceAndTheServerKeepsAnswering() {
        Incident incident = incident("lockdown-duplicates");
        String admin = adminUser("privacy-officer");
        try {
            HttpResponse<String> locked = postJson(officer(), "/admin/incidents/" + incident.id() + "/containment",
                    "{\"lockdown\":true,\"allow\":[\"" + admin + "\",\"" + admin + "\",\"" + admin.toUpperCase() + "\"]}");
            assertThat(locked.statusCode()).isIn(200, 400);
            assertThat(sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/metadata")).GET()).statusCode())
                    .isEqualTo(200);
            assertThat(as(officer(), HttpRequest.newBuilder(uri("/admin/incidents")).GET()).statusCode())
                    .isEqualTo(200);
            if (locked.statusCode() == 200) {
                assertThat(JdbcClient.create(dataSource).sql("select cardinality(allowed) from incident.lockdown")
                        .query(Integer.class).single()).isEqualTo(1);
            }
        } finally {
            lift(incident);
        }
    }

    @Test
    void duplicatesAlreadyStoredDoNotTakeTheServerDown() {
        Incident incident = incident("lockdown-stored-duplicates");
        JdbcClient jdbc = JdbcClient.create(dataSource);
        try {
            jdbc.sql("update incident.lockdown set allowed = array['someone','someone']").update();
            assertThat(sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/metadata")).GET()).statusCode())
                    .isEqualTo(200);
        } finally {
            lift(incident);
        }
    }

    @Test
    void onlyUserAccountsHoldingAnAdministrativePermissionMayBeLetThrough() {
        Incident incident = incident("lockdown-allow-kinds");
        String path = "/admin/incidents/" + incident.id() + "/containment";
        ServiceClients.Credentials service = client("lockdown-service", TestPolicy.EVERYTHING);
        String clinician = adminUser("clinician");
        try {
            for (String allowed : List.of(service.clientId(), clinician, "no-such-user-" + UUID.randomUUID())) {
            HttpResponse<String> refused = postJson(officer(), path, "{\"lockdown\":true,\"allow\":[\"" + allowed + "\"]}");
            assertThat(refused.statusCode()).as(allowed).isEqualTo(400);
            assertThat(refused.body()).doesNotContain(allowed);
            }
            assertThat(JdbcClient.create(dataSource).sql("select coalesce(bool_or(active), false) from incident.lockdown")
                    .query(Boolean.class).single()).as("nothing locked down").isFalse();
            assertThat(incidents.find(incident.id()).orElseThrow().state()).isEqualTo(IncidentState.OPEN);
        } finally {
            lift(incident);
        }
    }

    @Test
    void aLockdownRefusesJoiningAVisitAndTheSignalingHandshake() {
        Incident incident = incident("lockdown-telehealth");
        String admin = adminUser("privacy-officer");
        assertThat(postJson(officer(), "/admin/incidents/" + incident.id() + "/containment",
                "{\"lockdown\":true,\"allow\":[\"" + admin + "\"]}").statusCode()).isEqualTo(200);
        try {
            HttpResponse<String> join = as(token(), HttpRequest.newBuilder(
                    uri("/telehealth/visits/" + UUID.randomUUID() + "/join")).POST(HttpRequest.BodyPublishers.noBody()));
            assertThat(join.statusCode()).as("join").isEqualTo(503);
            HttpResponse<String> signal = sendWithoutToken(HttpRequest.newBuilder(uri("/telehealth/signal")).GET());
            assertThat(signal.statusCode()).as("signaling handshake").isEqualTo(503);
            HttpResponse<String> encoded = as(token(), HttpRequest.newBuilder(
                    uri("/%66hir/Patient/" + UUID.randomUUID())).GET());
            // Refused before the lockdown today (the security chain fails on the encoded path: a 500
            // outside this module); the lockdown's own decision on it is LockdownPathTest's.
            assertThat(encoded.statusCode()).as("an encoded /fhir path (review L2)").isNotEqualTo(200);
        } finally {
            lift(incident);
        }
    }
}
