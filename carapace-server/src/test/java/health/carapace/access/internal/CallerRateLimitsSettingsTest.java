package health.carapace.access.internal;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Settings that would refuse every request, or could never allow the sustained rate, stop the start. */
class CallerRateLimitsSettingsTest {

    @Test
    void aRateBelowOneOrABurstBelowTheRateIsRefused() {
        assertThatThrownBy(() -> new CallerRateLimits(0, 10)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("carapace.rate-limit.requests-per-second");
        assertThatThrownBy(() -> new CallerRateLimits(100, 50)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("carapace.rate-limit.burst");
    }
}
