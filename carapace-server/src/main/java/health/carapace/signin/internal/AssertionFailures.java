package health.carapace.signin.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;

/**
 * Backs off client assertions ({@code private_key_jwt}) that keep failing, per client id from one
 * address and per address over all client ids: after {@link #FREE_FAILURES} failures the next
 * attempt waits {@link #FIRST_WAIT}, doubling with each further failure up to {@link #MAX_WAIT}; a
 * success clears the client's count from that address. Each count is a leaky bucket: one failure
 * is forgiven every {@link #CLIENT_FORGIVES_ONE} (per client) or {@link #ADDRESS_FORGIVES_ONE}
 * (per address), so only a sustained rate of failures is held off. A trickle from one broken
 * client behind a shared egress (a hospital NAT, an integration engine) never adds up to a
 * back-off for every client behind it (review M3, ADR 0037). A throttled attempt is refused before any
 * key is looked up or fetched, so a flood of bad assertions costs no JWKS fetch and no signature
 * check. A stranger failing under a client's id elsewhere does not hold the client's own address off.
 *
 * <p>Unlike the client-secret throttle ({@link LoginThrottle}), the counts live in this node's
 * memory: an assertion cannot be guessed (it needs the client's private key), so this throttle
 * bounds cost, not guessing, and a success must cost no database round trip (token issuance for
 * backend services is a hot path: docs/BENCHMARKS.md). Each node counts on its own (ADR 0026).
 */
final class AssertionFailures {

    static final int FREE_FAILURES = 5;
    /** Over all client ids from one address: a scanner trying many ids. */
    static final int FREE_FAILURES_PER_ADDRESS = 100;
    static final Duration FIRST_WAIT = Duration.ofSeconds(1);
    static final Duration MAX_WAIT = Duration.ofMinutes(5);
    /** A client failing more often than once a minute from one address climbs towards its back-off. */
    static final Duration CLIENT_FORGIVES_ONE = Duration.ofMinutes(1);
    /** An address failing more than ten times a minute (over all client ids) climbs towards its back-off. */
    static final Duration ADDRESS_FORGIVES_ONE = Duration.ofSeconds(6);

    /** Failures not yet forgiven, as of the last one. */
    private record Count(double failures, Instant last) {

        Count plusOneAt(Instant now, Duration forgivesOne) {
            double forgiven = (double) Duration.between(last, now).toMillis() / forgivesOne.toMillis();
            return new Count(Math.max(0, failures - Math.max(0, forgiven)) + 1, now.isAfter(last) ? now : last);
        }
    }

    private final Clock clock;
    private final Cache<String, Count> counts = Caffeine.newBuilder().maximumSize(100_000)
            .expireAfterWrite(MAX_WAIT.multipliedBy(2)).build();

    AssertionFailures(Clock clock) {
        this.clock = clock;
    }

    /** How long this client id from this address must wait before its next assertion is looked at. */
    Duration wait(String clientId, String address) {
        Instant now = clock.instant();
        return Stream.of(wait(clientKey(clientId, address), FREE_FAILURES, now),
                wait(addressKey(address), FREE_FAILURES_PER_ADDRESS, now)).max(Duration::compareTo).orElseThrow();
    }

    void failed(String clientId, String address) {
        Instant now = clock.instant();
        counts.asMap().merge(clientKey(clientId, address), new Count(1, now),
                (old, one) -> old.plusOneAt(now, CLIENT_FORGIVES_ONE));
        counts.asMap().merge(addressKey(address), new Count(1, now),
                (old, one) -> old.plusOneAt(now, ADDRESS_FORGIVES_ONE));
    }

    void succeeded(String clientId, String address) {
        // The address's count is left to decay: a scanner's one good client must not clear it.
        if (!counts.asMap().isEmpty()) {
            counts.invalidate(clientKey(clientId, address));
        }
    }

    private Duration wait(String key, int free, Instant now) {
        Count count = counts.getIfPresent(key);
        // A failure counts until it is wholly forgiven: five failures within a second are five.
        double unforgiven = count == null ? 0 : Math.ceil(count.failures());
        if (unforgiven < free) {
            return Duration.ZERO;
        }
        int doublings = (int) Math.min(unforgiven - free, 20);
        Duration wait = FIRST_WAIT.multipliedBy(1L << doublings);
        wait = wait.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : wait;
        Duration left = Duration.between(now, count.last().plus(wait));
        return left.isNegative() ? Duration.ZERO : left;
    }

    private static String clientKey(String clientId, String address) {
        // The id is the assertion's unverified iss: bounded, so a flood of long ones costs no memory.
        return "c " + address + " " + (clientId.length() <= 100 ? clientId : "(too long)");
    }

    private static String addressKey(String address) {
        return "a " + address;
    }
}
