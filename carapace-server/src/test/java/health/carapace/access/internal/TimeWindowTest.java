package health.carapace.access.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.DayOfWeek;
import org.junit.jupiter.api.Test;

/** The edges of time windows, stated once as examples (the matrix test covers them against the oracle). */
class TimeWindowTest {

    @Test
    void startIsInsideEndIsOutside() {
        TimeWindow window = TimeWindow.parse("08:00-18:00 Mon-Fri");
        assertThat(window.contains(DayOfWeek.MONDAY, 8 * 60)).isTrue();
        assertThat(window.contains(DayOfWeek.MONDAY, 8 * 60 - 1)).isFalse();
        assertThat(window.contains(DayOfWeek.FRIDAY, 18 * 60 - 1)).isTrue();
        assertThat(window.contains(DayOfWeek.FRIDAY, 18 * 60)).isFalse();
        assertThat(window.contains(DayOfWeek.SATURDAY, 10 * 60)).isFalse();
    }

    @Test
    void aWindowAcrossMidnightBelongsToTheDayItStarts() {
        TimeWindow night = TimeWindow.parse("22:00-06:00 Mon-Fri");
        assertThat(night.contains(DayOfWeek.FRIDAY, 23 * 60)).isTrue();
        assertThat(night.contains(DayOfWeek.SATURDAY, 5 * 60 + 59)).isTrue();
        assertThat(night.contains(DayOfWeek.SATURDAY, 6 * 60)).isFalse();
        assertThat(night.contains(DayOfWeek.MONDAY, 3 * 60)).isFalse();
        assertThat(night.contains(DayOfWeek.TUESDAY, 3 * 60)).isTrue();
        assertThat(night.contains(DayOfWeek.SUNDAY, 23 * 60)).isFalse();
    }

    @Test
    void dayListsRangesAndWrappingRanges() {
        assertThat(TimeWindow.parse("00:00-24:00 Fri-Mon").days()).containsExactlyInAnyOrder(DayOfWeek.FRIDAY,
                DayOfWeek.SATURDAY, DayOfWeek.SUNDAY, DayOfWeek.MONDAY);
        assertThat(TimeWindow.parse("09:00-17:00 Sat,Sun").days()).containsExactlyInAnyOrder(DayOfWeek.SATURDAY,
                DayOfWeek.SUNDAY);
        assertThat(TimeWindow.parse("09:00-17:00").days()).hasSize(7);
        assertThat(TimeWindow.parse("09:00-17:00 Mon, Wed-Thu").days()).containsExactlyInAnyOrder(DayOfWeek.MONDAY,
                DayOfWeek.WEDNESDAY, DayOfWeek.THURSDAY);
        assertThat(TimeWindow.parse("00:00-24:00 Sun").contains(DayOfWeek.SUNDAY, 1439)).isTrue();
    }

    @Test
    void malformedWindowsAreRefused() {
        for (String bad : new String[] {"", "8-18", "08:00-18:00 Mon-", "08:00-18:00 Monday", "08:60-18:00",
                "24:00-06:00", "08:00-24:01", "08:00-08:00 Mon", "08:00 - 18:00", "08:00-18:00 ,"}) {
            assertThatThrownBy(() -> TimeWindow.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void inWordsAsAnAdministratorReadsIt() {
        assertThat(TimeWindow.parse("08:00-18:00 Mon-Fri").inWords()).isEqualTo("08:00 to 18:00, Monday to Friday");
        assertThat(TimeWindow.parse("22:00-06:00 Mon-Fri").inWords())
                .isEqualTo("22:00 to 06:00 the next morning, Monday to Friday");
        assertThat(TimeWindow.parse("09:00-17:00 Sat,Sun").inWords()).isEqualTo("09:00 to 17:00, Saturday and Sunday");
        assertThat(TimeWindow.parse("00:00-24:00 Fri-Mon").inWords()).isEqualTo("00:00 to 24:00, Friday to Monday");
        assertThat(TimeWindow.parse("09:00-17:00 Mon, Wed-Thu, Sat").inWords())
                .isEqualTo("09:00 to 17:00, Monday, Wednesday, Thursday and Saturday");
        assertThat(TimeWindow.parse("09:00-17:00 Tue").inWords()).isEqualTo("09:00 to 17:00, Tuesday");
        assertThat(TimeWindow.parse("09:00-17:00").inWords()).isEqualTo("09:00 to 17:00, every day");
        assertThat(TimeWindow.parse("07:00-19:00 Sun-Sat").inWords()).isEqualTo("07:00 to 19:00, every day");
    }
}
