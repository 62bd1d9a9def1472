package health.carapace.records;

import java.time.Instant;
import java.util.UUID;

/**
 * What other modules may ask of the patient records, which {@code records} alone stores (the
 * {@code phi} and {@code phi_index} schemas): whether a patient exists or was crypto-shredded,
 * and the tombstone that shredding writes. No other module names a {@code phi} table.
 */
public interface PatientRecords {

    /** Whether a Patient with this id was ever stored here (deleted or not). */
    boolean exists(Compartment patient);

    /** Whether the patient's records were crypto-shredded: the tombstone, which every read and write honours. */
    boolean shredded(Compartment patient);

    /**
     * In the caller's transaction: waits for every write to the patient's records already in
     * flight (they hold the patient's shredding lock shared until they commit; this takes it
     * exclusively), writes the tombstone, from whose commit on every node refuses the patient's
     * records, and drops the blind-index tokens of all of them (they are keyed by index keys that
     * are not shredded, and would still confirm a guessed identifier).
     */
    void tombstone(Compartment patient, UUID requestId, Instant at, String requestedBy, String approvedBy);
}
