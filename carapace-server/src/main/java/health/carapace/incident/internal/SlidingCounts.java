package health.carapace.incident.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Counts per key of the events inside a sliding window of event time (not wall time: a replay
 * after an outage judges events by when they happened). Keeps at most {@link #MAX_KEYS} keys,
 * dropping the least recently seen, so a flood of addresses cannot exhaust memory.
 */
final class SlidingCounts {

    static final int MAX_KEYS = 100_000;

    private final Duration window;
    private final Map<String, ArrayDeque<Instant>> byKey = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, ArrayDeque<Instant>> eldest) {
            return size() > MAX_KEYS;
        }
    };

    SlidingCounts(Duration window) {
        this.window = window;
    }

    /** Adds an event at {@code at} for {@code key}; returns how many fall in the window ending at it. */
    int add(String key, Instant at) {
        ArrayDeque<Instant> times = byKey.computeIfAbsent(key, k -> new ArrayDeque<>());
        times.addLast(at);
        Instant start = at.minus(window);
        while (!times.isEmpty() && times.peekFirst().isBefore(start)) {
            times.removeFirst();
        }
        return times.size();
    }
}
