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

    @Test
    void concurrentGuessesForOneAccountGetNoMoreChecksThanTheBackOffAllows() throws Exception {
        String account = "burst-" + UUID.randomUUID();
        int guesses = 15;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(guesses);
        try {
            java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
            java.util.List<java.util.concurrent.Future<LoginThrottle.Attempt>> attempts = new java.util.ArrayList<>();
            for (int i = 0; i < guesses; i++) {
                String address = "198.51.100." + (1 + i) + "-" + UUID.randomUUID();
                attempts.add(pool.submit(() -> {
                    start.await();
                    return throttle.reserve(account, address);
                }));
            }
            start.countDown();
            long allowed = 0;
            for (var attempt : attempts) {
                allowed += attempt.get(60, java.util.concurrent.TimeUnit.SECONDS).allowed() ? 1 : 0;
            }
            // One failure starts the account's back-off (carapace.login.backoff-base, far longer than
            // this burst): checked one at a time, exactly one guess gets through.
            assertThat(allowed).as("guesses let through to a password check").isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aReservationWhoseCheckSucceededIsTakenBack() {
        String account = "released-" + UUID.randomUUID();
        String address = "192.0.2.77-" + UUID.randomUUID();
        assertThat(throttle.reserve(account, address).allowed()).isTrue();
        assertThat(throttle.allows(account, address)).as("counted while the check runs").isFalse();
        throttle.release(account, address);
        assertThat(throttle.allows(account, address)).as("a correct password does not slow the second factor").isTrue();
    }
}
