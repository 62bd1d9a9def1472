package health.carapace.audit;

import java.nio.file.Path;
import java.time.Instant;

/**
 * Writes an audit export bundle (format: carapace-verify's README) that an auditor checks
 * offline with {@code carapace-verify.jar}, trusting only the published audit public key.
 */
public interface AuditExporter {

    /**
     * @param firstLeaf index of the first exported event
     * @param endLeaf one past the last exported event
     * @param treeSize the size of the signed tree head the events are proved against
     */
    record Export(Path directory, long firstLeaf, long endLeaf, long treeSize) {}

    /**
     * Exports the sealed events recorded in {@code [from, to)}, as the contiguous range of leaves
     * from the first to the last of them (so a few events just outside the window may be included:
     * a range with holes could not be proved complete).
     *
     * @throws IllegalArgumentException if no sealed event falls in the window
     */
    Export export(Instant from, Instant to, Path directory);
}
