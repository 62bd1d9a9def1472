package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.testing.TestInstallation;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Drills end to end against the real server over HTTPS, as {@code ./carapace drill run} plays them:
 * each scenario is detected, acknowledged, contained (the very next request refused), closed as a
 * drill, stored, and shown by the report; a drill incident is never a breach; the report (and its
 * metric) turns stale when the last drill is older than 92 days, proved with a moved clock.
 */
class DrillsTest extends IncidentTesting {

    @Autowired
    Drills drills;

    private Drills.Options options() {
        return new Drills.Options(URI.create(baseUrl()), TestInstallation.trustingSslContext(TestInstallation.dataDir()),
                "records-service", DETECTION, false, Duration.ZERO);
    }

    private Drills.Result runAndCheck(Drills.Scenario scenario, String detector) {
        Drills.Result result = drills.run(scenario, options(), "drill-test-officer");
        assertThat(result.outcome()).as(scenario.code()).isEqualTo("contained");
        assertThat(result.toDetect()).isNotNull();
        assertThat(result.toAcknowledge()).isNotNull();
        assertThat(result.toContain()).isNotNull();
        assertThat(result.acknowledgedByAPerson()).isFalse();
        Incident incident = incidents.find(result.incident()).orElseThrow();
        assertThat(incident.detector()).isEqualTo(detector);
        assertThat(incident.drill()).isTrue();
        assertThat(incident.principal()).startsWith("drill-");
        assertThat(incident.state()).isEqualTo(IncidentState.CLOSED);
        assertThat(incident.resolution()).isEqualTo("drill");
        return result;
    }

    @Test
    void aVipSnoopingDrillIsDetectedContainedStoredAndReportedAndNeverABreach() {
        Drills.Result result = runAndCheck(Drills.Scenario.VIP_SNOOPING, "vip-access");

        Drills.Report report = drills.report(Instant.now());
        assertThat(report.stale()).isFalse();
        assertThat(report.recent()).anySatisfy(r -> assertThat(r.id()).isEqualTo(result.id()));
        assertThat(report.trends()).anySatisfy(trend -> {
            assertThat(trend.scenario()).isEqualTo(Drills.Scenario.VIP_SNOOPING);
            assertThat(trend.drills()).isPositive();
            assertThat(trend.meanTimeToDetect()).isNotNull();
            assertThat(trend.meanTimeToContain()).isNotNull();
        });
        assertThat(drills.report(Instant.now().plus(Duration.ofDays(93))).stale()).as("93 days later").isTrue();
        assertThat(drills.report(Instant.now().plus(Duration.ofDays(91))).stale()).as("91 days later").isFalse();
        assertThatThrownBy(() -> incidents.recordBreach(result.incident(),
                new Breach(LocalDate.now(), 1, Map.of("CA", 1)), "drill-test-officer"))
                .isInstanceOf(Incidents.Refused.class);
        String metrics = as(tokenWithRoles("drill-metrics", "admin"), HttpRequest.newBuilder(uri("/admin/metrics")).GET())
                .body();
        assertThat(metrics).contains("carapace_incident_drill_stale 0.0").contains("carapace_incident_drill_age_seconds");
    }

    @Test
    void aCredentialAttackDrillIsContained() {
        runAndCheck(Drills.Scenario.CREDENTIAL_ATTACK, "credential-attack");
    }

    @Test
    void aBulkReadDrillIsContained() {
        runAndCheck(Drills.Scenario.BULK_READ, "bulk-read");
    }

    @Test
    void anAfterHoursBreakGlassDrillIsContained() {
        runAndCheck(Drills.Scenario.AFTER_HOURS_BREAK_GLASS, "unusual-hours");
    }

    @Test
    void aRoleThatDoesNotExistIsRefusedAndNothingIsStored() {
        var jdbc = org.springframework.jdbc.core.simple.JdbcClient.create(dataSource);
        long before = jdbc.sql("select count(*) from incident.drill").query(Long.class).single();
        assertThatThrownBy(() -> drills.run(Drills.Scenario.VIP_SNOOPING, new Drills.Options(URI.create(baseUrl()),
                TestInstallation.trustingSslContext(TestInstallation.dataDir()), "no-such-role", DETECTION, false,
                Duration.ZERO), "drill-test-officer")).isInstanceOf(Incidents.Refused.class);
        assertThat(jdbc.sql("select count(*) from incident.drill").query(Long.class).single()).isEqualTo(before);
    }
}
