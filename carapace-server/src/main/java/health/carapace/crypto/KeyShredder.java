package health.carapace.crypto;

import java.util.UUID;

/**
 * Crypto-shredding: destroying a patient compartment's data keys, which makes every record
 * encrypted under them unrecoverable while the ciphertext stays where it is. Only the disposal
 * workflow calls this, after two administrators agreed (docs/adr/0011-crypto-shredding.md).
 */
public interface KeyShredder {

    /**
     * Deletes every version of the compartment's wrapped data key from the keyring, records the
     * compartment as shredded there (so no node ever creates a key for it again) and evicts the
     * key from this node's cache; other nodes evict theirs within seconds. Idempotent.
     *
     * @param compartment a patient compartment, {@code Patient/<uuid>}
     * @param requestId the approved shredding request, kept in the keyring's tombstone
     * @return how many wrapped keys were deleted by this call
     * @throws IllegalArgumentException for anything but a patient compartment
     */
    int shred(String compartment, UUID requestId);

    /** Whether the keyring records {@code compartment} as shredded. */
    boolean isShredded(String compartment);
}
