package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.signin.AccessEndDates;
import health.carapace.signin.Users;
import health.carapace.testing.IntegrationTest;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** An account whose access end date has passed is disabled by the server's own sweep; one whose date is ahead is not. */
class AccessEndEnforcementTest extends IntegrationTest {

    @Autowired
    Users users;

    @Autowired
    AccessEndDates ends;

    @Autowired
    AccessEndEnforcement enforcement;

    @Test
    void anAccountPastItsEndIsDisabledAndOneBeforeItIsNot() {
        String leaver = "leaver-" + UUID.randomUUID().toString().substring(0, 8);
        String stayer = "stayer-" + UUID.randomUUID().toString().substring(0, 8);
        users.create(leaver, Set.of("clinician"), null);
        users.create(stayer, Set.of("clinician"), null);
        ends.set(leaver, Instant.now().minus(Duration.ofMinutes(1)), "test");
        ends.set(stayer, Instant.now().plus(Duration.ofDays(30)), "test");

        assertThat(enforcement.disablePastEnd()).isPositive();

        assertThat(disabled(leaver)).isTrue();
        assertThat(disabled(stayer)).isFalse();
    }

    private boolean disabled(String name) {
        return users.list().stream().filter(u -> u.userName().equals(name)).findFirst().orElseThrow().disabled();
    }
}
