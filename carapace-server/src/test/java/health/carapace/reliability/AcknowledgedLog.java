package health.carapace.reliability;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * What the server acknowledged, as the client saw it: a write counts once the whole 2xx
 * response with its version has arrived (a response the kill cut off is not acknowledged: the
 * client cannot know whether it happened); a PHI response counts once its 2xx status and body
 * have arrived, identified by the {@code X-Request-Id} the server gave it.
 */
final class AcknowledgedLog {

    /** One acknowledged version of one resource and the marker its content carried. */
    record Write(String type, String id, int version, String marker) {
        String reference() {
            return type + "/" + id;
        }
    }

    private final ConcurrentLinkedQueue<Write> uncheckedWrites = new ConcurrentLinkedQueue<>();
    private final List<Write> checkedWrites = java.util.Collections.synchronizedList(new ArrayList<>());
    private final Map<String, Integer> latestVersion = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<String> unauditedResponses = new ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicLong phiResponses = new java.util.concurrent.atomic.AtomicLong();

    void write(Write write) {
        uncheckedWrites.add(write);
        latestVersion.merge(write.reference(), write.version(), Math::max);
    }

    void phiResponse(String requestId) {
        if (requestId == null) {
            throw new IllegalStateException("a successful PHI response without X-Request-Id");
        }
        phiResponses.incrementAndGet();
        unauditedResponses.add(requestId);
    }

    int latestVersion(String reference) {
        return latestVersion.getOrDefault(reference, 0);
    }

    /** The writes acknowledged since the last call; they join the checked ones. */
    List<Write> takeUncheckedWrites() {
        List<Write> taken = new ArrayList<>();
        for (Write w; (w = uncheckedWrites.poll()) != null; ) {
            taken.add(w);
        }
        checkedWrites.addAll(taken);
        return taken;
    }

    List<Write> allWrites() {
        synchronized (checkedWrites) {
            return List.copyOf(checkedWrites);
        }
    }

    /** The request ids of PHI responses not yet confirmed in the audit trail. */
    List<String> takeUnconfirmedResponses() {
        List<String> taken = new ArrayList<>();
        for (String id; (id = unauditedResponses.poll()) != null; ) {
            taken.add(id);
        }
        return taken;
    }

    long phiResponses() {
        return phiResponses.get();
    }
}
