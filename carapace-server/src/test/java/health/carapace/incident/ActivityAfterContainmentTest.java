package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.signin.ServiceClients;
import health.carapace.testing.TestPolicy;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Review M6: once an incident is contained, the same principal's next detection opens a new
 * incident (and alerts again) instead of joining the contained one unseen.
 */
class ActivityAfterContainmentTest extends IncidentTesting {

    @Test
    void aSnooperWhoComesBackAfterContainmentOpensANewIncident() {
        ServiceClients.Credentials snooper = client("returning-snooper", TestPolicy.EVERYTHING);
        String token = tokenFor(snooper.clientId(), snooper.clientSecret());
        String patient = createPatient();
        link(snooper.clientId(), patient);
        read(token, patient);
        Incident first = awaitIncident("self-access", snooper.clientId());
        String path = "/admin/incidents/" + first.id() + "/containment";
        // An isolating action that does not touch this test's own address.
        assertThat(postJson(officer(), path, "{\"block\":[\"198.51.100.0/24\"]}").statusCode()).isEqualTo(200);
        try {
            assertThat(incidents.find(first.id()).orElseThrow().state()).isEqualTo(IncidentState.CONTAINED);
            int eventsWhenContained = incidents.find(first.id()).orElseThrow().events();

            read(token, patient);
            List<Incident> both = await().atMost(DETECTION)
                    .until(() -> incidentsOf("self-access", snooper.clientId()), found -> found.size() == 2);
            assertThat(both).filteredOn(i -> !i.id().equals(first.id())).singleElement()
                    .satisfies(second -> assertThat(second.state()).isEqualTo(IncidentState.OPEN));
            assertThat(incidents.find(first.id()).orElseThrow().events()).isEqualTo(eventsWhenContained);
        } finally {
            assertThat(postJson(officer(), path, "{\"unblock\":[\"198.51.100.0/24\"]}").statusCode()).isEqualTo(200);
        }
    }
}
