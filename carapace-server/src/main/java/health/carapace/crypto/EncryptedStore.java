package health.carapace.crypto;

import java.util.function.BiConsumer;

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
     * Hands each distinct (compartment, first {@code prefixBytes} bytes of a ciphertext) of the
     * store to {@code sink}, so that the DEK rotation job can see which data keys stored
     * ciphertexts still name before it destroys any. The store only reads its own table; what a
     * prefix means, and so which keys are in use, is decided once, in crypto ({@code KeysInUse}).
     * Rows without a ciphertext and rows of crypto-shredded compartments are left out: those are
     * never re-encrypted, and their keyset is being destroyed anyway.
     *
     * @param compartment only this compartment's rows, or null for all
     */
    void scanKeyPrefixes(String compartment, int prefixBytes, BiConsumer<String, byte[]> sink);
}
