package health.carapace.signin.internal;

import java.time.Duration;

/**
 * Sign-in settings (README "Configuration reference").
 *
 * @param idleTimeout a session ends when no token was issued for this long (automatic logoff)
 * @param maxLifetime a session ends this long after the login, however active
 * @param maxFailures consecutive failed sign-ins that lock an account
 * @param lockout how long a lock lasts; also the window after which failures are forgotten
 * @param backoffBase delay after the first failure; doubles with each further one
 * @param enrolmentLinkTtl how long an enrolment link stays usable
 */
public record SignInSettings(Duration idleTimeout, Duration maxLifetime, int maxFailures, Duration lockout,
        Duration backoffBase, Duration enrolmentLinkTtl) {

    public SignInSettings {
        require(!idleTimeout.isNegative() && !idleTimeout.isZero(), "carapace.session.idle-timeout must be positive");
        require(maxLifetime.compareTo(idleTimeout) >= 0,
                "carapace.session.max-lifetime must be at least carapace.session.idle-timeout");
        require(maxFailures >= 1 && maxFailures <= 100, "carapace.login.max-failures must be between 1 and 100");
        require(!lockout.isNegative() && !lockout.isZero(), "carapace.login.lockout must be positive");
        require(!backoffBase.isNegative(), "carapace.login.backoff-base must not be negative");
        require(!enrolmentLinkTtl.isNegative() && !enrolmentLinkTtl.isZero()
                && enrolmentLinkTtl.compareTo(Duration.ofDays(7)) <= 0,
                "carapace.login.enrolment-link-ttl must be between 1 second and 7 days");
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalStateException(message);
        }
    }
}
