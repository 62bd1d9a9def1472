package health.carapace.disposal;

import health.carapace.records.Compartment;
import java.util.UUID;

/**
 * A patient's shredding was approved: published inside the approval's transaction (the one that
 * writes the tombstone), so a listener's work commits or rolls back with it. Modules that keep
 * copies of records elsewhere (Bulk Data export files) destroy them here; {@code request} is the
 * approved shredding request (the shredding ledger records it by that id).
 */
public record PatientShredded(Compartment patient, UUID request) {}
