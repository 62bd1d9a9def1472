package health.carapace.audit;

import java.util.List;

/**
 * The sealed audit trail in leaf order, for readers that keep their own position (the incident
 * detectors): leaf indexes are contiguous and fixed once sealed, so "everything after leaf N" is
 * a resumable cursor. Search queries are not decrypted here ({@link AuditQueries.StoredEvent#query()}
 * is always null): a reader of the feed needs who touched which patient, never what they searched for.
 */
public interface AuditFeed {

    /** One sealed event and its leaf index. */
    record SealedEvent(long leafIndex, AuditQueries.StoredEvent event) {}

    /**
     * Sealed events with leaf index above {@code afterLeaf}, in leaf order, at most {@code limit}.
     * Runs in the caller's transaction if there is one.
     */
    List<SealedEvent> after(long afterLeaf, int limit);

    /** The highest sealed leaf index, or -1 when nothing is sealed yet (for lag metrics). */
    long lastSealedLeaf();
}
