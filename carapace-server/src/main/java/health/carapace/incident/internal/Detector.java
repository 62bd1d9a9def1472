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

    void inspect(SealedEvent event, List<Detection> found);

    default void endOfBatch(List<Detection> found) {
    }
}
