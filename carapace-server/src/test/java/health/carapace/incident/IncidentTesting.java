package health.carapace.incident;

import static org.awaitility.Awaitility.await;

import health.carapace.signin.ServiceClients;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.springframework.beans.factory.annotation.Autowired;

/** What the incident tests share: patients, privacy-register calls and waiting for the detectors. */
abstract class IncidentTesting extends IntegrationTest {

    static final Duration DETECTION = Duration.ofSeconds(60);

    @Autowired
    protected Incidents incidents;

    private String officerToken;

    /** A token of a client holding the dev role {@code privacy-officer}. */
    protected synchronized String officer() {
        if (officerToken == null) {
            officerToken = tokenWithRoles("privacy-officer-" + UUID.randomUUID(), "privacy-officer");
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

    protected HttpResponse<String> as(String token, HttpRequest.Builder request) {
        return sendWithoutToken(request.header("Authorization", "Bearer " + token));
    }

    protected HttpResponse<String> read(String token, String patientId) {
        return as(token, HttpRequest.newBuilder(uri("/fhir/Patient/" + patientId)).GET());
    }

    protected HttpResponse<String> putJson(String token, String path, String json) {
        return as(token, HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    protected HttpResponse<String> postJson(String token, String path, String json) {
        return as(token, HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    protected void flag(String patientId, boolean vip, boolean employee) {
        HttpResponse<String> flagged = putJson(officer(), "/admin/privacy/patients/" + patientId + "/flags",
                "{\"vip\":" + vip + ",\"employee\":" + employee + "}");
        if (flagged.statusCode() != 200) {
            throw new IllegalStateException("flag refused: " + flagged.statusCode());
        }
    }

    protected void link(String principal, String patientId) {
        HttpResponse<String> linked = putJson(officer(), "/admin/privacy/principals/" + principal,
                "{\"patient\":\"Patient/" + patientId + "\"}");
        if (linked.statusCode() != 200) {
            throw new IllegalStateException("link refused: " + linked.statusCode());
        }
    }

    protected List<Incident> incidentsOf(String detector, String principal) {
        return incidents.list(new Incidents.Filter(null, null, detector, principal, null, null, 100));
    }

    protected Incident awaitIncident(String detector, String principal) {
        return await().atMost(DETECTION).until(() -> incidentsOf(detector, principal), found -> !found.isEmpty())
                .get(0);
    }

    /**
     * Returns once the detectors have read every event recorded so far: a fresh principal opens
     * the Patient it is linked to, and its self-access incident is waited for (leaf order: what
     * came before it has been read).
     */
    protected void drainDetectors() {
        ServiceClients.Credentials marker = client("drain-marker", TestPolicy.EVERYTHING);
        String patient = createPatient();
        link(marker.clientId(), patient);
        read(tokenFor(marker.clientId(), marker.clientSecret()), patient);
        awaitIncident("self-access", marker.clientId());
    }
}
