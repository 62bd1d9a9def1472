package health.carapace.crypto;

import java.util.Map;
import java.util.Set;

/**
 * The stored ciphertexts and blind-index tokens, as the key rotation jobs need to see them.
 * Implemented by the module that owns the records (crypto cannot reach into it); every method
 * works in bounded batches after a cursor, so that a job can checkpoint and resume.
 */
public interface EncryptedRecords {

    /**
     * One step of a job.
     *
     * @param nextCursor where the next step starts, or null when there is nothing after this step
     * @param scanned rows looked at
     * @param changed rows rewritten
     */
    record Batch(String nextCursor, int scanned, int changed) {}

    /**
     * Re-encrypts, under their compartment's primary key, up to {@code limit} stored versions after
     * {@code cursor} (null: from the start) whose ciphertext is under another key. Versions of a
     * compartment without a key, or with the records' shredding tombstone, are skipped.
     *
     * @param compartment only this compartment, or null for all
     */
    Batch reencrypt(String compartment, String cursor, int limit);

    /**
     * Key ids (see {@link RecordCipher#keyIdOf}) that stored ciphertexts carry, per compartment;
     * crypto-shredded compartments (the records' tombstone) are left out.
     */
    Map<String, Set<Integer>> keyIdsInUse(String compartment);

    /**
     * Rewrites the blind-index tokens of up to {@code limit} current resources after {@code cursor}
     * under the active index key version.
     */
    Batch reindex(String cursor, int limit);

    /** Whether any stored token was made under another index key version than {@code keyVersion}. */
    boolean hasTokensOtherThan(int keyVersion);
}
