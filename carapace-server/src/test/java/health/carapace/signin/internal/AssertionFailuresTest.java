package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** The back-off of failed client assertions (ADR 0026): per client id and address, and per address. */
class AssertionFailuresTest {

    private Instant now = Instant.parse("2026-12-05T03:00:00Z");
    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    };

    @Test
    void afterFiveFailuresTheWaitDoublesAndEndsWithTime() {
        AssertionFailures failures = new AssertionFailures(clock);
        for (int i = 0; i < AssertionFailures.FREE_FAILURES; i++) {
            assertThat(failures.wait("svc-a", "203.0.113.7")).isZero();
            failures.failed("svc-a", "203.0.113.7");
        }
        assertThat(failures.wait("svc-a", "203.0.113.7")).isEqualTo(Duration.ofSeconds(1));
        failures.failed("svc-a", "203.0.113.7");
        assertThat(failures.wait("svc-a", "203.0.113.7")).isEqualTo(Duration.ofSeconds(2));
        now = now.plusSeconds(2);
        assertThat(failures.wait("svc-a", "203.0.113.7")).isZero();
    }

    @Test
    void aStrangerFailingUnderAClientsIdElsewhereDoesNotHoldTheClientsAddressOff() {
        AssertionFailures failures = new AssertionFailures(clock);
        for (int i = 0; i < 50; i++) {
            failures.failed("svc-a", "198.51.100.9");
        }
        assertThat(failures.wait("svc-a", "198.51.100.9")).isPositive();
        assertThat(failures.wait("svc-a", "203.0.113.7")).isZero();
    }

    @Test
    void oneAddressTryingManyClientIdsIsHeldOffAsAWhole() {
        AssertionFailures failures = new AssertionFailures(clock);
        for (int i = 0; i < AssertionFailures.FREE_FAILURES_PER_ADDRESS; i++) {
            failures.failed("svc-" + i, "198.51.100.9");
        }
        assertThat(failures.wait("svc-never-tried", "198.51.100.9")).isPositive();
        assertThat(failures.wait("svc-never-tried", "203.0.113.7")).isZero();
    }

    @Test
    void aSuccessClearsTheClientsCountFromThatAddressButNotTheAddresssOwn() {
        AssertionFailures failures = new AssertionFailures(clock);
        for (int i = 0; i < AssertionFailures.FREE_FAILURES_PER_ADDRESS; i++) {
            failures.failed("svc-a", "198.51.100.9");
        }
        failures.succeeded("svc-a", "198.51.100.9");
        assertThat(failures.wait("svc-b", "198.51.100.9")).as("a scanner's one good client clears nothing else")
                .isPositive();
    }

    @Test
    void aTrickleOfFailuresFromOneBrokenClientHoldsOffThatClientButNeverTheOthersBehindItsAddress() {
        AssertionFailures failures = new AssertionFailures(clock);
        for (int i = 0; i < 2_000; i++) {
            failures.failed("svc-broken", "198.51.100.9");
            assertThat(failures.wait("svc-good", "198.51.100.9")).as("after %s failures", i + 1).isZero();
            now = now.plusSeconds(30);
        }
        // twice a minute is more than the client's own count forgives: that client alone waits
        failures.failed("svc-broken", "198.51.100.9");
        assertThat(failures.wait("svc-broken", "198.51.100.9")).isPositive();
    }

    @Test
    void aBurstFromOneAddressIsForgivenWithTimeNotHeldAgainstTheNextFailure() {
        AssertionFailures failures = new AssertionFailures(clock);
        for (int i = 0; i < AssertionFailures.FREE_FAILURES_PER_ADDRESS; i++) {
            failures.failed("svc-" + i, "198.51.100.9");
        }
        assertThat(failures.wait("svc-x", "198.51.100.9")).isPositive();
        now = now.plus(AssertionFailures.ADDRESS_FORGIVES_ONE.multipliedBy(AssertionFailures.FREE_FAILURES_PER_ADDRESS));
        failures.failed("svc-y", "198.51.100.9");
        assertThat(failures.wait("svc-x", "198.51.100.9")).isZero();
    }
}
