package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.ServiceClients;
import health.carapace.testing.TestPolicy;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Containment input (review M2, M1): every range is checked before anything is done, and actions
 * that isolate nothing are recorded on the timeline without marking the incident contained.
 */
class ContainmentInputTest extends IncidentTesting {

    private record Snooper(Incident incident, String token, String patient) {}

    private Snooper snooper(String name) {
        ServiceClients.Credentials snooper = client(name, TestPolicy.EVERYTHING);
        String patient = createPatient();
        link(snooper.clientId(), patient);
        String token = tokenFor(snooper.clientId(), snooper.clientSecret());
        read(token, patient);
        return new Snooper(awaitIncident("self-access", snooper.clientId()), token, patient);
    }

    @Test
    void aBadRangeRefusesTheWholeRequestBeforeThePrincipalIsDisabled() {
        Snooper snooper = snooper("bad-range-first");
        String path = "/admin/incidents/" + snooper.incident().id() + "/containment";
        for (String range : List.of("1.2.3.4/99", "::1/129", "1.2.3.4/", "1.2.3/24", "1.2.3.4/-1", "::g", "1.2.3.4/024")) {
            HttpResponse<String> refused = postJson(officer(), path,
                    "{\"disable\":true,\"block\":[\"" + range + "\"]}");
            assertThat(refused.statusCode()).as(range).isEqualTo(400);
            assertThat(refused.body()).doesNotContain(range);
        }
        assertThat(read(snooper.token(), snooper.patient()).statusCode()).as("still enabled").isEqualTo(200);
        Incident after = incidents.find(snooper.incident().id()).orElseThrow();
        assertThat(after.state()).isEqualTo(IncidentState.OPEN);
        assertThat(after.containedAt()).isNull();
    }

    @Test
    void unblockingARangeThatIsNotBlockedLeavesTheIncidentOpenWithItsClockRunning() {
        Snooper snooper = snooper("isolates-nothing");
        String path = "/admin/incidents/" + snooper.incident().id() + "/containment";
        HttpResponse<String> response = postJson(officer(), path, "{\"unblock\":[\"192.0.2.1\"]}");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("unblock:not-blocked:192.0.2.1/32");
        assertThat(postJson(officer(), path, "{\"lockdown\":false}").statusCode()).isEqualTo(200);
        Incident after = incidents.find(snooper.incident().id()).orElseThrow();
        assertThat(after.state()).isEqualTo(IncidentState.OPEN);
        assertThat(after.containedAt()).isNull();
        assertThat(after.timeline()).extracting(Incident.TimelineEntry::detail)
                .contains("unblock:not-blocked:192.0.2.1/32", "lockdown-lifted");
    }
}
