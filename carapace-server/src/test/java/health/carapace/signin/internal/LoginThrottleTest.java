package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The per-address counter, on the real table: one address failing across many account names
 * (password spraying) is slowed down once it passes its free allowance (5 × max-failures), while
 * each account it tried is still below its own lock.
 */
class LoginThrottleTest extends IntegrationTest {

    @Autowired
    private LoginThrottle throttle;

    @Autowired
    private SignInSettings settings;

    @Test
    void anAddressSprayingManyAccountsIsThrottledWithoutLockingThem() {
        String address = "203.0.113." + (1 + new java.util.Random().nextInt(250)) + "-" + UUID.randomUUID();
        int free = 5 * settings.maxFailures();
        for (int i = 0; i < free; i++) {
            String account = "spray-" + UUID.randomUUID();
            assertThat(throttle.allows(account, address)).as("attempt %d", i + 1).isTrue();
            assertThat(throttle.failed(account, address).locked()).isFalse();
        }
        String fresh = "spray-" + UUID.randomUUID();
        assertThat(throttle.allows(fresh, address)).as("the free allowance is spent, not exceeded").isTrue();
        throttle.failed(fresh, address);

        assertThat(throttle.allows("spray-" + UUID.randomUUID(), address)).as("after the free allowance").isFalse();
        assertThat(throttle.allows("spray-" + UUID.randomUUID(), "198.51.100.1-" + UUID.randomUUID())).as("another address").isTrue();
    }

    @Test
    void anAccountLocksAfterMaxFailuresFromAnyAddresses() {
        String account = "target-" + UUID.randomUUID();
        boolean locked = false;
        for (int i = 0; i < settings.maxFailures(); i++) {
            locked = throttle.failed(account, "192.0.2." + i + "-" + UUID.randomUUID()).locked();
        }

        assertThat(locked).isTrue();
        assertThat(throttle.allows(account, "192.0.2.200-" + UUID.randomUUID())).isFalse();
        throttle.succeeded(account, "unused");
        assertThat(throttle.allows(account, "192.0.2.201-" + UUID.randomUUID())).isTrue();
    }
}
