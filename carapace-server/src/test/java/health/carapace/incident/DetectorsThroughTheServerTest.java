package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.ServiceClients;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import org.junit.jupiter.api.Test;

/**
 * Each detector that keys on a principal, positive and negative, from real requests to the real
 * server through the sealed audit trail (volume and unusual-hours, which need days of history, are
 * in {@code DetectorBaselinesTest}).
 */
class DetectorsThroughTheServerTest extends IncidentTesting {

    @Test
    void selfAccessIsFlaggedOnlyForThePatientThePrincipalIsLinkedTo() {
        ServiceClients.Credentials nurse = client("self-access-nurse", TestPolicy.EVERYTHING);
        String token = tokenFor(nurse.clientId(), nurse.clientSecret());
        String own = createPatient();
        String other = createPatient();
        link(nurse.clientId(), own);

        assertThat(read(token, other).statusCode()).isEqualTo(200);
        drainDetectors();
        assertThat(incidentsOf("self-access", nurse.clientId())).as("another patient").isEmpty();

        assertThat(read(token, own).statusCode()).isEqualTo(200);
        Incident incident = awaitIncident("self-access", nurse.clientId());
        Incident shown = incidents.find(incident.id()).orElseThrow();
        assertThat(shown.patients()).containsExactly("Patient/" + own);
        assertThat(shown.severity()).isEqualTo(Severity.MEDIUM);
        assertThat(shown.state()).isEqualTo(IncidentState.OPEN);
        assertThat(shown.timeline()).first().satisfies(entry -> assertThat(entry.entry()).isEqualTo("detected"));
        assertThat(shown.auditEvents()).isNotEmpty();
    }

    @Test
    void vipAndCoworkerAccessWithoutACareRelationshipIsFlaggedAndWithOneIsNot() {
        String vip = createPatient();
        String coworker = createPatient();
        String plain = createPatient();
        flag(vip, true, false);
        flag(coworker, false, true);
        ServiceClients.Credentials curious = client("curious-clerk", TestPolicy.EVERYTHING);
        String token = tokenFor(curious.clientId(), curious.clientSecret());
        ServiceClients.Credentials carer = client("assigned-carer", TestPolicy.CLINICIAN);
        String carerToken = tokenFor(carer.clientId(), carer.clientSecret());
        String admin = tokenWithRoles("vip-assigner", "admin");
        assertThat(as(admin, HttpRequest.newBuilder(uri("/admin/assignments/" + vip + "/" + carer.clientId()))
                .PUT(HttpRequest.BodyPublishers.noBody())).statusCode()).isEqualTo(201);

        assertThat(read(carerToken, vip).statusCode()).isEqualTo(200);
        assertThat(read(token, plain).statusCode()).isEqualTo(200);
        drainDetectors();
        assertThat(incidentsOf("vip-access", carer.clientId())).as("a care relationship").isEmpty();
        assertThat(incidentsOf("vip-access", curious.clientId())).as("an unflagged patient").isEmpty();

        assertThat(read(token, vip).statusCode()).isEqualTo(200);
        assertThat(read(token, coworker).statusCode()).isEqualTo(200);
        Incident vipAccess = awaitIncident("vip-access", curious.clientId());
        Incident coworkerAccess = awaitIncident("coworker-access", curious.clientId());
        assertThat(incidents.find(vipAccess.id()).orElseThrow().patients()).containsExactly("Patient/" + vip);
        assertThat(incidents.find(coworkerAccess.id()).orElseThrow().patients()).containsExactly("Patient/" + coworker);
        assertThat(vipAccess.severity()).isEqualTo(Severity.HIGH);
    }

    @Test
    void breakGlassIsAlwaysFlaggedAndOnAVipPatientTwice() {
        String vip = createPatient();
        flag(vip, true, false);
        ServiceClients.Credentials emergency = client("emergency-doctor", TestPolicy.CLINICIAN);
        String token = tokenFor(emergency.clientId(), emergency.clientSecret());
        assertThat(as(token, HttpRequest.newBuilder(uri("/fhir/$break-glass"))
                .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"patient\",\"valueReference\":"
                                + "{\"reference\":\"Patient/" + vip + "\"}},{\"name\":\"reason\",\"valueString\":"
                                + "\"Unconscious on arrival\"}]}"))).statusCode()).isEqualTo(200);
        assertThat(read(token, vip).statusCode()).isEqualTo(200);

        Incident afterHours = awaitIncident("unusual-hours", emergency.clientId());
        assertThat(incidents.find(afterHours.id()).orElseThrow().timeline())
                .anySatisfy(entry -> assertThat(entry.detail()).isEqualTo("break-glass"));
        awaitIncident("vip-access", emergency.clientId());
    }

    @Test
    void repeatedDenialsOfOnePrincipalAreFlaggedAtTheThresholdNotBelowIt() {
        ServiceClients.Credentials prober = client("prober", TestPolicy.RADIOLOGIST);
        String token = tokenFor(prober.clientId(), prober.clientSecret());
        String patient = createPatient();
        for (int i = 0; i < 9; i++) {
            assertThat(as(token, HttpRequest.newBuilder(uri("/fhir/Observation?patient=" + patient)).GET()).statusCode())
                    .isEqualTo(403);
        }
        drainDetectors();
        assertThat(incidentsOf("repeated-denials", prober.clientId())).as("nine of ten").isEmpty();

        assertThat(as(token, HttpRequest.newBuilder(uri("/fhir/Observation?patient=" + patient)).GET()).statusCode())
                .isEqualTo(403);
        assertThat(awaitIncident("repeated-denials", prober.clientId()).severity()).isEqualTo(Severity.MEDIUM);
    }

    @Test
    void failedClientCredentialRequestsAgainstOneClientAreACredentialAttack() {
        ServiceClients.Credentials target = client("attacked-client", TestPolicy.CLINICIAN);
        for (int i = 0; i < 9; i++) {
            tokenRequest(target.clientId(), "wrong-secret-" + i);
        }
        drainDetectors();
        assertThat(incidentsOf("credential-attack", target.clientId())).as("nine of ten").isEmpty();

        tokenRequest(target.clientId(), "wrong-secret-last");
        assertThat(awaitIncident("credential-attack", target.clientId()).severity()).isEqualTo(Severity.HIGH);
    }

    @Test
    void aSearchPageOfManyPatientsIsABulkReadAndASmallOneIsNot() {
        ServiceClients.Credentials exporter = client("bulk-exporter", TestPolicy.EVERYTHING);
        String token = tokenFor(exporter.clientId(), exporter.clientSecret());
        for (int i = 0; i < 52; i++) {
            createPatient();
        }
        assertThat(as(token, HttpRequest.newBuilder(uri("/fhir/Patient?_count=20")).GET()).statusCode()).isEqualTo(200);
        drainDetectors();
        assertThat(incidentsOf("bulk-read", exporter.clientId())).as("twenty patients").isEmpty();

        assertThat(as(token, HttpRequest.newBuilder(uri("/fhir/Patient?_count=60")).GET()).statusCode()).isEqualTo(200);
        assertThat(awaitIncident("bulk-read", exporter.clientId()).severity()).isEqualTo(Severity.HIGH);
    }

    private void tokenRequest(String clientId, String secret) {
        String basic = java.util.Base64.getEncoder().encodeToString((clientId + ":" + secret)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        int status = sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"))).statusCode();
        // 429 once the sign-in throttle holds the address back: audited as a failed login all the same
        assertThat(status).isIn(401, 429);
    }
}
