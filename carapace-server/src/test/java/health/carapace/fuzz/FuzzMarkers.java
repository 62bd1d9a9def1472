package health.carapace.fuzz;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Unique strings put into fuzzed input: a response or a log line that contains one has echoed
 * input. Letters and digits only, so that no layer escapes them out of recognition.
 */
final class FuzzMarkers {

    static final String PREFIX = "qzfzmark";
    private static final AtomicLong NEXT = new AtomicLong(System.nanoTime() & 0xffffff);

    private FuzzMarkers() {
    }

    static String next() {
        return PREFIX + Long.toString(NEXT.incrementAndGet(), 36);
    }
}
