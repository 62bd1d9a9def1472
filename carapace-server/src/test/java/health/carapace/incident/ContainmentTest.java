package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.signin.ServiceClients;
import health.carapace.signin.Users;
import health.carapace.testing.Refusals;
import health.carapace.testing.SecondNode;
import health.carapace.testing.SignInBrowser;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Containment takes effect on the very next request, on this node (A) and on a second server node
 * (B) started on the same database: disabling the principal, blocking an address range, and the
 * lockdown. Each action is stamped on the incident and moves it to contained.
 */
class ContainmentTest extends IncidentTesting {

    private static SecondNode nodeB;
    private static int nodeBPort;

    @Autowired
    Containment containment;

    @Autowired
    Users users;

    @BeforeAll
    static void startSecondNode() {
        nodeB = SecondNode.start();
        nodeBPort = nodeB.port();
    }

    @AfterAll
    static void stopSecondNode() {
        if (nodeB != null) {
            nodeB.close();
        }
    }

    private Incident selfAccessIncident(String name) {
        ServiceClients.Credentials snooper = client(name, TestPolicy.EVERYTHING);
        String patient = createPatient();
        link(snooper.clientId(), patient);
        read(tokenFor(snooper.clientId(), snooper.clientSecret()), patient);
        return awaitIncident("self-access", snooper.clientId());
    }

    private int onNode(int nodePort, String token, String path) {
        HttpResponse<String> response = sendWithoutToken(HttpRequest.newBuilder(
                URI.create("https://localhost:" + nodePort + path)).header("Authorization", "Bearer " + token).GET());
        return response.statusCode();
    }

    @Test
    void disablingTheIncidentsClientRefusesItsNextRequestOnEveryNode() {
        ServiceClients.Credentials snooper = client("contained-snooper", TestPolicy.EVERYTHING);
        String token = tokenFor(snooper.clientId(), snooper.clientSecret());
        String patient = createPatient();
        link(snooper.clientId(), patient);
        assertThat(onNode(port, token, "/fhir/Patient/" + patient)).isEqualTo(200);
        assertThat(onNode(nodeBPort, token, "/fhir/Patient/" + patient)).isEqualTo(200);
        Incident incident = awaitIncident("self-access", snooper.clientId());

        HttpResponse<String> contained = postJson(officer(), "/admin/incidents/" + incident.id() + "/containment",
                "{\"disable\":true}");
        assertThat(contained.statusCode()).isEqualTo(200);
        assertThat(contained.body()).contains("\"done\":[\"disabled\"]").contains("detectionToContainmentSeconds");

        assertThat(onNode(port, token, "/fhir/Patient/" + patient)).isEqualTo(401);
        assertThat(onNode(nodeBPort, token, "/fhir/Patient/" + patient)).isEqualTo(401);
        Incident after = incidents.find(incident.id()).orElseThrow();
        assertThat(after.state()).isEqualTo(IncidentState.CONTAINED);
        assertThat(after.containedAt()).isNotNull();
        assertThat(after.timeline()).anySatisfy(entry -> {
            assertThat(entry.entry()).isEqualTo("contained");
            assertThat(entry.detail()).isEqualTo("disabled");
        });
    }

    @Test
    void aBlockedRangeIsRefusedBeforeAuthenticationOnEveryNodeAndLiftingItLetsRequestsThrough() {
        Incident incident = selfAccessIncident("blocked-range-snooper");
        String token = token();
        containment.contain(incident.id(), new Containment.Actions(false, false, List.of("203.0.113.0/24"), List.of(),
                null, List.of()), "privacy-officer-test");
        assertThat(onNode(port, token, "/fhir/metadata")).as("another range").isEqualTo(200);
        try {
            containment.contain(incident.id(), new Containment.Actions(false, false, List.of("127.0.0.0/8", "::1"),
                    List.of(), null, List.of()), "privacy-officer-test");
            HttpResponse<String> refused = sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/metadata")).GET());
            assertThat(refused.statusCode()).isEqualTo(403);
            assertThat(Refusals.outcomeOf(refused).getIssueFirstRep().getDiagnostics()).contains("address-blocked");
            assertThat(onNode(nodeBPort, token, "/fhir/metadata")).isEqualTo(403);
            assertThat(sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"))).statusCode())
                    .as("the token endpoint too").isEqualTo(403);
        } finally {
            containment.contain(incident.id(), new Containment.Actions(false, false, List.of(),
                    List.of("127.0.0.0/8", "::1", "203.0.113.0/24"), null, List.of()), "privacy-officer-test");
        }
        assertThat(onNode(port, token, "/fhir/metadata")).isEqualTo(200);
        assertThat(onNode(nodeBPort, token, "/fhir/metadata")).isEqualTo(200);
        assertThat(incidents.find(incident.id()).orElseThrow().timeline()).extracting(Incident.TimelineEntry::detail)
                .contains("blocked:127.0.0.0/8", "unblocked:127.0.0.0/8");
    }

    @Test
    void aLockdownRefusesEveryPhiRequestExceptTheNamedAdministratorsOnEveryNode() {
        Incident incident = selfAccessIncident("lockdown-snooper");
        // Only user accounts holding an administrative permission may be let through (review M4).
        String named = "lockdown-admin-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        Users.Enrolment enrolment = users.create(named, Set.of(TestPolicy.EVERYTHING, "privacy-officer"), null);
        String namedToken = new SignInBrowser(baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()))
                .firstSignIn(enrolment.link(), named, "a long enough passphrase").accessToken();
        String patient = createPatient();
        HttpResponse<String> locked = postJson(officer(), "/admin/incidents/" + incident.id() + "/containment",
                "{\"lockdown\":true,\"allow\":[\"" + named + "\"]}");
        assertThat(locked.statusCode()).isEqualTo(200);
        try {
            assertThat(onNode(port, token(), "/fhir/Patient/" + patient)).isEqualTo(503);
            assertThat(onNode(nodeBPort, token(), "/fhir/Patient/" + patient)).isEqualTo(503);
            assertThat(onNode(port, namedToken, "/fhir/Patient/" + patient)).isEqualTo(200);
            assertThat(onNode(nodeBPort, namedToken, "/fhir/Patient/" + patient)).isEqualTo(200);
            assertThat(sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/metadata")).GET()).statusCode())
                    .as("the capability statement").isEqualTo(200);
        } finally {
            assertThat(postJson(officer(), "/admin/incidents/" + incident.id() + "/containment",
                    "{\"lockdown\":false}").statusCode()).isEqualTo(200);
        }
        assertThat(onNode(port, token(), "/fhir/Patient/" + patient)).isEqualTo(200);
        assertThat(onNode(nodeBPort, token(), "/fhir/Patient/" + patient)).isEqualTo(200);
    }

    @Test
    void containmentRefusesWhatDoesNotApplyAndChangesNothing() {
        Incident incident = selfAccessIncident("refused-containment");
        String path = "/admin/incidents/" + incident.id() + "/containment";
        assertThat(postJson(officer(), path, "{}").statusCode()).as("no action").isEqualTo(400);
        HttpResponse<String> badRange = postJson(officer(), path, "{\"block\":[\"evil.example.com\"]}");
        assertThat(badRange.statusCode()).isEqualTo(400);
        assertThat(badRange.body()).doesNotContain("evil");
        assertThat(postJson(officer(), path, "{\"block\":[\"300.1.2.3/8\"]}").statusCode()).isEqualTo(400);
        assertThat(postJson(officer(), path, "{\"revokeSessions\":true}").statusCode())
                .as("a client has no sessions").isEqualTo(409);
        assertThat(postJson(token(), path, "{\"disable\":true}").statusCode()).isEqualTo(403);
        assertThat(postJson(officer(), "/admin/incidents/" + java.util.UUID.randomUUID() + "/containment",
                "{\"disable\":true}").statusCode()).isEqualTo(404);
        assertThat(incidents.find(incident.id()).orElseThrow().state()).isEqualTo(IncidentState.OPEN);
        assertThat(postJson(officer(), "/admin/incidents/" + incident.id() + "/close",
                "{\"state\":\"closed\",\"resolution\":\"false-positive\"}").statusCode()).isEqualTo(200);
        assertThat(postJson(officer(), path, "{\"disable\":true}").statusCode()).as("closed").isEqualTo(409);
    }
}
