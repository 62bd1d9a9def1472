package health.carapace.access;

import java.util.Collection;
import java.util.Set;

/**
 * Which patients were crypto-shredded, as the records module's tombstone says. Access keeps
 * break-glass reasons encrypted under patients' keys, and must not try to open (or re-encrypt)
 * those of a shredded patient; the tombstone is the records module's, which implements this.
 */
public interface ShreddedPatients {

    /** The compartments ({@code Patient/<id>}) among {@code compartments} that were shredded. */
    Set<String> shreddedAmong(Collection<String> compartments);
}
