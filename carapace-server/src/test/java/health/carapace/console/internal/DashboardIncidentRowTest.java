package health.carapace.console.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.incident.Clocks;
import health.carapace.incident.Incident;
import health.carapace.incident.IncidentState;
import health.carapace.incident.Severity;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A dashboard row names the clocks that ran out and the next one still running: a clock whose
 * event happened (contained, alerted, planned) is not "next", however far its deadline is.
 */
class DashboardIncidentRowTest {

    private static final Instant DETECTED = Instant.parse("2026-12-05T10:00:00Z");

    @Test
    void aFreshIncidentsNextClockIsIsolation() {
        DashboardPage.IncidentRow row = DashboardPage.IncidentRow.of(
                incident(new Clocks(DETECTED.plus(Duration.ofMinutes(15)), DETECTED.plus(Duration.ofMinutes(60)),
                        DETECTED.plus(Duration.ofHours(4)), null, null, null, List.of(), List.of()), null),
                DETECTED.plus(Duration.ofMinutes(5)));
        assertThat(row.overdue()).isEmpty();
        assertThat(row.nextClock()).isEqualTo("isolate");
        assertThat(row.nextBy()).isEqualTo(DETECTED.plus(Duration.ofMinutes(15)));
    }

    @Test
    void metClocksAreNotNextAndOverdueOnesAreNamed() {
        // isolation ran out unmet; the alert went out (acknowledged): the next running clock is the plan
        Clocks clocks = new Clocks(DETECTED.plus(Duration.ofMinutes(15)), DETECTED.plus(Duration.ofMinutes(60)),
                DETECTED.plus(Duration.ofHours(4)), null, null, null, List.of("isolate"), List.of("alert"));
        DashboardPage.IncidentRow row = DashboardPage.IncidentRow.of(incident(clocks, null),
                DETECTED.plus(Duration.ofMinutes(20)));
        assertThat(row.overdue()).containsExactly("isolate");
        assertThat(row.nextClock()).isEqualTo("plan");

        // contained: isolation no longer runs even without a "met" entry
        Clocks unmetList = new Clocks(DETECTED.plus(Duration.ofMinutes(15)), DETECTED.plus(Duration.ofMinutes(60)),
                DETECTED.plus(Duration.ofHours(4)), null, null, null, List.of(), List.of("alert", "plan"));
        DashboardPage.IncidentRow contained = DashboardPage.IncidentRow.of(incident(unmetList, DETECTED.plusSeconds(60)),
                DETECTED.plus(Duration.ofMinutes(2)));
        assertThat(contained.nextClock()).isNull();
        assertThat(contained.nextBy()).isNull();
    }

    private static Incident incident(Clocks clocks, Instant containedAt) {
        return new Incident(UUID.randomUUID(), "self-access", Severity.HIGH, "someone", null,
                containedAt == null ? IncidentState.OPEN : IncidentState.CONTAINED, false, DETECTED, DETECTED, DETECTED, 1,
                null, null, containedAt, null, null, clocks, List.of(), List.of(), List.of(), null, null);
    }

    @Test
    void openIncidentsAreCountedUpToTheBoundAndShownAsAtLeastBeyondIt() {
        var below = new DashboardPage.OpenIncidents(java.util.Map.of(health.carapace.incident.IncidentState.OPEN, 999L), 999,
                java.util.List.of());
        org.assertj.core.api.Assertions.assertThat(below.shown(999)).isEqualTo("999");
        org.assertj.core.api.Assertions.assertThat(below.totalShown()).isEqualTo("999");
        var storm = new DashboardPage.OpenIncidents(new java.util.EnumMap<>(java.util.Map.of(
                health.carapace.incident.IncidentState.OPEN, DashboardPage.COUNTED,
                health.carapace.incident.IncidentState.ACKNOWLEDGED, 2L)), DashboardPage.COUNTED + 2, java.util.List.of());
        org.assertj.core.api.Assertions.assertThat(storm.shown(DashboardPage.COUNTED)).isEqualTo("1000+");
        org.assertj.core.api.Assertions.assertThat(storm.shown(2)).isEqualTo("2");
        org.assertj.core.api.Assertions.assertThat(storm.totalShown()).isEqualTo("1002+");
    }
}
