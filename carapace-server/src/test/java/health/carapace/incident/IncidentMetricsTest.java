package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.TestPolicy;
import java.net.http.HttpRequest;
import org.junit.jupiter.api.Test;

/** The incident meters at {@code /admin/metrics}: open by severity, overdue clocks, detector lag, time to contain. */
class IncidentMetricsTest extends IncidentTesting {

    @Test
    void theScrapeShowsOpenIncidentsDetectionsLagAndTimeToContain() {
        drainDetectors(); // opens a self-access incident
        Incident incident = incidents.list(new Incidents.Filter(IncidentState.OPEN, null, "self-access", null, null,
                false, 1)).get(0);
        assertThat(postJson(officer(), "/admin/incidents/" + incident.id() + "/containment",
                "{\"block\":[\"192.0.2.10\"]}").statusCode()).isEqualTo(200);
        postJson(officer(), "/admin/incidents/" + incident.id() + "/containment", "{\"unblock\":[\"192.0.2.10\"]}");

        String metrics = as(tokenWithRoles("incident-metrics", TestPolicy.METRICS),
                HttpRequest.newBuilder(uri("/admin/metrics")).GET()).body();
        assertThat(metrics).containsPattern("carapace_incident_open\\{severity=\"medium\"} [1-9]")
                .contains("carapace_incident_clocks_overdue{clock=\"isolate\"}")
                .contains("carapace_incident_detector_lag_leaves")
                .containsPattern("carapace_incident_detections_total\\{detector=\"self-access\"} [1-9]")
                .containsPattern("carapace_incident_time_to_contain_seconds_count [1-9]");
    }
}
