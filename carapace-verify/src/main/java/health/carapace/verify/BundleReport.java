package health.carapace.verify;

/**
 * What a successful {@link BundleVerifier#verify} established.
 *
 * @param keyId the trusted key that signed every tree head
 * @param treeHeads how many signed tree heads the bundle holds (all verified, each consistent
 *     with the one before)
 * @param smallestTreeSize the size of the first tree head
 * @param largestTreeSize the size of the last tree head
 * @param firstTimestampMillis the first tree head's timestamp
 * @param lastTimestampMillis the last tree head's timestamp
 * @param firstLeafIndex the first event of the exported range
 * @param endLeafIndex one past the last event of the exported range; every index in between is
 *     present exactly once and included in a signed tree head
 * @param rootsRebuilt how many tree heads' roots were also recomputed from the events
 *     themselves (possible when the range starts at leaf 0)
 */
public record BundleReport(
        String keyId,
        int treeHeads,
        long smallestTreeSize,
        long largestTreeSize,
        long firstTimestampMillis,
        long lastTimestampMillis,
        long firstLeafIndex,
        long endLeafIndex,
        int rootsRebuilt) {

    /** The number of events verified. */
    public long events() {
        return endLeafIndex - firstLeafIndex;
    }
}
