package health.carapace.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;

/**
 * A clock that moves only when told: a test advances it instead of sleeping, and nothing that
 * it decides can drift while the test runs. Safe to read and move from several threads.
 */
public final class MovableClock extends Clock {

    private volatile Instant now;

    public MovableClock(Instant now) {
        this.now = now;
    }

    /** Starts at the present, to the millisecond (what the database keeps of a timestamp). */
    public static MovableClock startingNow() {
        return new MovableClock(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
    }

    public synchronized void advance(Duration duration) {
        now = now.plus(duration);
    }

    /** Moves forward to {@code instant}, if that is later than now. */
    public synchronized void advanceTo(Instant instant) {
        if (instant.isAfter(now)) {
            now = instant;
        }
    }

    @Override
    public Instant instant() {
        return now;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    /**
     * For an application context whose time the test moves: {@code @Import(MovableClock.Installed.class)}.
     * The server's {@link Clock} bean is then this one.
     */
    @TestConfiguration(proxyBeanMethods = false)
    public static class Installed {
        @Bean
        @Primary
        MovableClock movableClock() {
            return startingNow();
        }
    }
}
