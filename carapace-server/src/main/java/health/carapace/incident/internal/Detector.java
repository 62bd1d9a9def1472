package health.carapace.incident.internal;

import health.carapace.audit.AuditFeed.SealedEvent;
import java.util.List;

/**
 * One detection rule over the sealed audit trail, with a stable code (docs/INCIDENTS.md). The
 * runner shows every event of a batch, in leaf order, to {@link #inspect}, then calls
 * {@link #endOfBatch} for rules that judge a batch at once; both run inside the runner's
 * transaction, so whatever a detector writes commits with the position that covers it.
 */
interface Detector {

    String code();

    /**
     * Called with the whole batch before any {@link #inspect}: a rule that keeps state per principal
     * loads it here in one query for the batch, never one per event (issue 15: 20,000 events/s).
     */
    default void startOfBatch(List<SealedEvent> batch) {
    }

    void inspect(SealedEvent event, List<Detection> found);

    default void endOfBatch(List<Detection> found) {
    }
}
