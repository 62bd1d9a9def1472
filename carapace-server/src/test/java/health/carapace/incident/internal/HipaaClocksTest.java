package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.incident.Breach;
import health.carapace.incident.Clocks;
import health.carapace.incident.IncidentState;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The clocks of an incident: the response plan's from detection, HIPAA's from discovery (45 CFR §§164.404-408). */
class HipaaClocksTest {

    private static final Instant DETECTED = Instant.parse("2026-03-10T09:00:00Z");

    private static Clocks clocks(Instant now, Breach breach) {
        return IncidentStore.clocks(now, DETECTED, null, null, null, breach, IncidentState.OPEN);
    }

    @Test
    void theResponseClocksRunFifteenMinutesAnHourAndFourHoursFromDetection() {
        Clocks fresh = clocks(DETECTED.plusSeconds(60), null);
        assertThat(fresh.isolateBy()).isEqualTo("2026-03-10T09:15:00Z");
        assertThat(fresh.alertBy()).isEqualTo("2026-03-10T10:00:00Z");
        assertThat(fresh.planBy()).isEqualTo("2026-03-10T13:00:00Z");
        assertThat(fresh.overdue()).isEmpty();
        assertThat(clocks(DETECTED.plusSeconds(16 * 60), null).overdue()).containsExactly("isolate");
        assertThat(clocks(DETECTED.plusSeconds(5 * 3600), null).overdue()).containsExactly("isolate", "alert", "plan");
        Clocks containedInTime = IncidentStore.clocks(DETECTED.plusSeconds(5 * 3600), DETECTED,
                DETECTED.plusSeconds(600), DETECTED.plusSeconds(1200), DETECTED.plusSeconds(3600), null,
                IncidentState.CONTAINED);
        assertThat(containedInTime.overdue()).isEmpty();
        assertThat(containedInTime.met()).containsExactly("isolate", "alert", "plan");
        assertThat(fresh.met()).isEmpty();
    }

    @Test
    void fiveHundredOrMoreAffectedMeansHhsWithinSixtyDaysOfDiscovery() {
        Clocks clocks = clocks(DETECTED, new Breach(LocalDate.parse("2026-03-10"), 500, Map.of("CA", 500)));
        assertThat(clocks.individualsBy()).as("§164.404(b): 60 days, the last day included")
                .isEqualTo("2026-05-10T00:00:00Z");
        assertThat(clocks.hhsBy()).as("§164.408(b)").isEqualTo(clocks.individualsBy());
        assertThat(clocks.mediaBy()).as("§164.406: more than 500 residents of a State, not 500").isNull();
    }

    @Test
    void fewerThanFiveHundredAreReportedToHhsWithinSixtyDaysAfterTheCalendarYear() {
        Clocks clocks = clocks(DETECTED, new Breach(LocalDate.parse("2026-03-10"), 499, Map.of()));
        assertThat(clocks.hhsBy()).as("§164.408(c): 60 days after 31 December 2026 is 1 March 2027")
                .isEqualTo("2027-03-02T00:00:00Z");
        Clocks leap = clocks(DETECTED, new Breach(LocalDate.parse("2027-06-01"), 3, Map.of()));
        assertThat(leap.hhsBy()).as("2028 is a leap year: 29 February").isEqualTo("2028-03-01T00:00:00Z");
    }

    @Test
    void moreThanFiveHundredResidentsOfOneStateMeansMediaNotice() {
        Clocks clocks = clocks(DETECTED, new Breach(LocalDate.parse("2026-03-10"), 900, Map.of("TX", 501, "OK", 399)));
        assertThat(clocks.mediaBy()).isEqualTo("2026-05-10T00:00:00Z");
    }

    @Test
    void aBreachHoldsCountsAndStateCodesOnly() {
        assertThatThrownBy(() -> new Breach(LocalDate.parse("2026-03-10"), 0, Map.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Breach(LocalDate.parse("2026-03-10"), 5, Map.of("Texas", 5)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Breach(LocalDate.parse("2026-03-10"), 5, Map.of("TX", 6)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
