package health.carapace.audit;

import java.time.Instant;

/**
 * What the {@code audit-integrity} detector watches (docs/INCIDENTS.md), read cheaply (index
 * lookups and the witness file's last line, never a scan of the trail): the last recorded full
 * verification, how long the oldest event has waited for the sealer, and whether the tree heads
 * signed before a moment have reached the witness directory.
 */
public interface AuditIntegrity {

    /**
     * @param lastVerificationAt when the last full verification finished; null when none ran yet
     * @param lastVerificationOk whether it passed (true when none ran yet)
     * @param oldestUnsealed when the oldest event not yet sealed was recorded; null when none waits
     * @param headSizeSignedBefore the largest tree size of a head signed before the moment asked about; -1 if none
     * @param witnessedSize the largest tree size in the witness directory; -1 if it has none or cannot be read
     */
    record Status(Instant lastVerificationAt, boolean lastVerificationOk, Instant oldestUnsealed,
            long headSizeSignedBefore, long witnessedSize) {

        /** A head signed before the moment asked about is not (yet) in the witness directory. */
        public boolean witnessMissing() {
            return headSizeSignedBefore > witnessedSize;
        }
    }

    /** @param headsSignedBefore heads signed after this are not yet expected in the witness directory */
    Status status(Instant headsSignedBefore);
}
