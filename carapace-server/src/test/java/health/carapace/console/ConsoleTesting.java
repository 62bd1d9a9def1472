package health.carapace.console;

import static org.awaitility.Awaitility.await;

import health.carapace.audit.AuditQueries;
import health.carapace.incident.Incident;
import health.carapace.incident.Incidents;
import health.carapace.signin.ServiceClients;
import health.carapace.signin.Users;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.springframework.beans.factory.annotation.Autowired;

/** Set-up shared by the console's tests: people who use it, incidents to act on, audit events to find. */
abstract class ConsoleTesting extends IntegrationTest {

    @Autowired
    protected Users users;

    @Autowired
    protected Incidents incidents;

    @Autowired
    protected AuditQueries auditQueries;

    private String officerToken;

    /** A new person holding {@code roles}, signed in to the console. */
    protected ConsoleVisitor signedIn(String... roles) {
        ConsoleVisitor visitor = enrolled(roles);
        visitor.signIn();
        return visitor;
    }

    protected ConsoleVisitor enrolled(String... roles) {
        return ConsoleVisitor.enrolled(users, baseUrl(), TestInstallation.trustingSslContext(TestInstallation.dataDir()),
                roles);
    }

    protected synchronized String officer() {
        if (officerToken == null) {
            officerToken = tokenWithRoles("console-officer-" + UUID.randomUUID(), "privacy-officer");
        }
        return officerToken;
    }

    protected String createPatient() {
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"active\":true}")));
        if (created.statusCode() != 201) {
            throw new IllegalStateException("patient not created: " + created.statusCode());
        }
        return fhir.newJsonParser().parseResource(created.body()).getIdElement().getIdPart();
    }

    /**
     * An open {@code self-access} incident: a fresh service client linked to its own Patient reads
     * it (the detector that needs the least set-up).
     */
    protected Incident openIncident() {
        ServiceClients.Credentials nurse = client("console-nurse", TestPolicy.EVERYTHING);
        String patient = createPatient();
        HttpResponse<String> linked = sendWithoutToken(HttpRequest.newBuilder(uri("/admin/privacy/principals/"
                        + nurse.clientId()))
                .header("Authorization", "Bearer " + officer()).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"patient\":\"Patient/" + patient + "\"}")));
        if (linked.statusCode() != 200) {
            throw new IllegalStateException("link refused: " + linked.statusCode());
        }
        sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/Patient/" + patient))
                .header("Authorization", "Bearer " + tokenFor(nurse.clientId(), nurse.clientSecret())).GET());
        return await().atMost(Duration.ofSeconds(60))
                .until(() -> incidents.list(new Incidents.Filter(null, null, "self-access", nurse.clientId(), null, null,
                        10)), found -> !found.isEmpty())
                .get(0);
    }

    /** The audit events of {@code principal} with {@code action}, newest first. */
    protected List<AuditQueries.StoredEvent> events(String principal, String action) {
        return auditQueries.search(new AuditQueries.Criteria(null, principal, null, null, List.of(action), null, 100));
    }

    /** Admin API read of an incident, as an outside check of what the console did. */
    protected HttpResponse<String> incidentThroughTheApi(UUID id) {
        return sendWithoutToken(HttpRequest.newBuilder(uri("/admin/incidents/" + id))
                .header("Authorization", "Bearer " + officer()).GET());
    }
}
