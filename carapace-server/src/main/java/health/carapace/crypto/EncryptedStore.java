package health.carapace.crypto;

/**
 * One table (or column) that holds ciphertexts under compartment data keys, as the DEK rotation
 * job needs to see it. Every such store must be a bean implementing this interface: the job
 * re-encrypts each in turn and destroys an old key only once no store still refers to it, so a
 * store that is missing here would lose its data at the first rotation. Implemented by the
 * module that owns the rows (crypto cannot reach into it); work goes in bounded batches after a
 * cursor, so that the job can checkpoint and resume.
 */
public interface EncryptedStore {

    /**
     * One step of a job.
     *
     * @param nextCursor where the next step starts, or null when there is nothing after this step
     * @param scanned rows looked at
     * @param changed rows rewritten
     */
    record Batch(String nextCursor, int scanned, int changed) {}

    /**
     * Stable name of the store (for example its table), kept in job checkpoints: it must not
     * change between releases and must not contain ':'.
     */
    String name();

    /**
     * Re-encrypts, under their compartment's primary key and with unchanged associated data, up
     * to {@code limit} ciphertexts after {@code cursor} (null: from the start) that are under
     * another key. Writes are compare-and-set, so repeating a batch is harmless. Ciphertexts of a
     * compartment without a key, or crypto-shredded ({@code phi.shredded_compartment}), are
     * skipped. A cursor never contains ':' and is never empty.
     *
     * @param compartment only this compartment, or null for all
     */
    Batch reencrypt(String compartment, String cursor, int limit);

    /**
     * Where the store keeps its ciphertexts, so that the DEK rotation job can see which data keys
     * they still name before it destroys any (crypto reads the Tink prefix of each; the store
     * only says where to look).
     */
    CiphertextColumn ciphertexts();

    /**
     * A column of ciphertexts under compartment data keys, as SQL names on the main database.
     * Rows whose ciphertext is null are ignored.
     *
     * @param table the table with an alias, for example {@code phi.resource_version v}
     * @param compartment the column holding each row's compartment
     * @param ciphertext the column holding the ciphertext
     * @param shredded a condition (over the alias) true for rows of a crypto-shredded compartment:
     *     they are never re-encrypted and their keyset is being destroyed anyway, so they keep no
     *     key in use
     */
    record CiphertextColumn(String table, String compartment, String ciphertext, String shredded) {}
}
