package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.platform.config.Mode;
import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

/** Malformed or out-of-range detector settings stop the server at start, naming the setting, never its value. */
class IncidentSettingsTest {

    @Test
    void theDefaultsAreValid() {
        assertThat(new IncidentReadiness().problems(Mode.PROD, new MockEnvironment())).isEmpty();
        IncidentSettings defaults = IncidentSettings.from(new MockEnvironment());
        assertThat(defaults.volumeK()).isEqualTo(3.0);
        assertThat(defaults.volumeFloor()).isEqualTo(30);
        assertThat(defaults.bulkReadPatients()).isEqualTo(50);
    }

    @Test
    void eachMalformedSettingIsNamed() {
        MockEnvironment environment = new MockEnvironment()
                .withProperty("carapace.incident.volume.k", "NaN")
                .withProperty("carapace.incident.repeated-denials.count", "1")
                .withProperty("carapace.incident.credential-attack.window", "five minutes")
                .withProperty("carapace.incident.unusual-hours.zone", "Canary/Smith")
                .withProperty("carapace.incident.bulk-read.patients", "-4");
        var problems = new IncidentReadiness().problems(Mode.DEV, environment);
        assertThat(problems).hasSize(5);
        assertThat(String.join("\n", problems)).contains("carapace.incident.volume.k",
                "carapace.incident.repeated-denials.count", "carapace.incident.credential-attack.window",
                "carapace.incident.unusual-hours.zone", "carapace.incident.bulk-read.patients")
                .doesNotContain("five minutes").doesNotContain("Canary");
    }
}
