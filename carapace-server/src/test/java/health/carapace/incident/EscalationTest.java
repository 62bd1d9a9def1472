package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.ServiceClients;
import health.carapace.testing.TestPolicy;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * An incident nobody acknowledged is escalated once by the running server (the test's server
 * escalates after its default 30 minutes; the incident is aged in its own table), stamped on
 * its timeline; an acknowledged one is not.
 */
class EscalationTest extends IncidentTesting {

    @Test
    void anUnacknowledgedIncidentIsEscalatedOnceAndAnAcknowledgedOneNever() {
        Incident ignored = selfAccess("escalation-ignored");
        Incident handled = selfAccess("escalation-handled");
        assertThat(postJson(officer(), "/admin/incidents/" + handled.id() + "/acknowledge", "").statusCode())
                .isEqualTo(200);
        age(ignored.id());
        age(handled.id());

        org.awaitility.Awaitility.await().atMost(DETECTION).until(() -> incidents.find(ignored.id()).orElseThrow()
                .timeline().stream().anyMatch(entry -> entry.entry().equals("escalated")));
        Incident escalated = incidents.find(ignored.id()).orElseThrow();
        assertThat(escalated.timeline()).filteredOn(entry -> entry.entry().equals("escalated")).hasSize(1);
        assertThat(escalated.clocks().overdue()).as("40 minutes: past isolate (15), not yet alert (60)")
                .containsExactly("isolate");
        assertThat(incidents.find(handled.id()).orElseThrow().timeline())
                .noneSatisfy(entry -> assertThat(entry.entry()).isEqualTo("escalated"));
        assertThat(incidents.find(handled.id()).orElseThrow().clocks().overdue()).as("acknowledged in time")
                .doesNotContain("alert");
    }

    private Incident selfAccess(String name) {
        ServiceClients.Credentials nurse = client(name, TestPolicy.EVERYTHING);
        String patient = createPatient();
        link(nurse.clientId(), patient);
        read(tokenFor(nurse.clientId(), nurse.clientSecret()), patient);
        return awaitIncident("self-access", nurse.clientId());
    }

    /** As if detected 40 minutes ago (acknowledgements keep their real time). */
    private void age(UUID id) {
        JdbcClient.create(dataSource).sql("update incident.incident set detected_at = detected_at - interval '40 minutes'"
                + " where id = ?").param(id).update();
    }
}
