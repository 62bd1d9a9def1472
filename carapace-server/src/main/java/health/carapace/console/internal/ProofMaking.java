package health.carapace.console.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;

/**
 * How much proof work the console lets its pages ask for: an inclusion proof reads leaf hashes
 * from the database (all of them for a head nobody asked about before), so on a small host a
 * person repeating the request, or a page reloaded in a loop, must not hold connections and
 * cores. At most {@link #AT_ONCE} proofs are made at once on a node, one at a time per person, and
 * {@link #PER_MINUTE} per person a minute; beyond that the page answers 429 and makes nothing
 * (review of the console, finding 8).
 */
final class ProofMaking {

    static final int AT_ONCE = 2;
    static final int PER_MINUTE = 20;

    private record Window(Instant start, int count) {}

    private final Semaphore node = new Semaphore(AT_ONCE);
    private final Set<String> making = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();
    private final Clock clock;

    ProofMaking(Clock clock) {
        this.clock = clock;
    }

    <T> Optional<T> make(String principal, Supplier<Optional<T>> proof) {
        if (!withinRate(principal)) {
            throw busy();
        }
        if (!making.add(principal)) {
            throw busy();
        }
        try {
            if (!node.tryAcquire()) {
                throw busy();
            }
            try {
                return proof.get();
            } finally {
                node.release();
            }
        } finally {
            making.remove(principal);
        }
    }

    private boolean withinRate(String principal) {
        Instant now = clock.instant();
        if (windows.size() > 10_000) {
            windows.entrySet().removeIf(e -> e.getValue().start().isBefore(now.minus(Duration.ofMinutes(1))));
        }
        Window window = windows.compute(principal, (name, current) -> current == null
                || !current.start().isAfter(now.minus(Duration.ofMinutes(1))) ? new Window(now, 1)
                        : new Window(current.start(), current.count() + 1));
        return window.count() <= PER_MINUTE;
    }

    private static ConsoleRefusal busy() {
        return new ConsoleRefusal(429, "Too many inclusion proofs asked for at once; try again in a minute.");
    }
}
