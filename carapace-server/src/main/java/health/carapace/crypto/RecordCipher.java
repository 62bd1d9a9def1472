package health.carapace.crypto;

import java.util.Optional;

/**
 * Envelope encryption of stored records. Each compartment (one patient, or the shared
 * compartment for resources outside any patient) has its own Tink AES256_GCM keyset, wrapped
 * by the {@link KeyEncryptionKey}. The associated data binds a ciphertext to its row, so a
 * ciphertext copied to another row fails to decrypt.
 */
public interface RecordCipher {

    /** Compartment of resources that belong to no patient (Practitioner, Organization, ...). */
    String SHARED_COMPARTMENT = "shared";

    /** Encrypts, creating the compartment's key on first use. */
    byte[] encrypt(String compartment, byte[] plaintext, byte[] associatedData);

    /**
     * As {@link #encrypt}, for the first record of a compartment the caller has just made (a new
     * patient under a fresh id): the keyring does not look for a key before it makes and stores
     * one. Only a hint that saves a round trip: storing is refused for a shredded compartment
     * ({@link KeyDestroyedException}) and yields to a key already stored, which is then used,
     * as {@link #encrypt} would.
     */
    default byte[] encryptFirst(String compartment, byte[] plaintext, byte[] associatedData) {
        return encrypt(compartment, plaintext, associatedData);
    }

    /**
     * Makes and stores the keys of compartments whose first records the caller is about to write
     * (the new patients of a transaction Bundle, under fresh ids), each a keyset of its own, in one
     * keyring transaction instead of one per compartment, and returns them ready for those first
     * records (not through the node's key cache: a full cache may turn a new key away at once).
     * Stored under the same rules as one by one: each compartment's lock, a key already stored
     * wins and is used, a shredded compartment gets none (its first record then goes through
     * {@link #encryptFirst}, which refuses it). Like a key made by {@link #encryptFirst}, a key
     * stays stored if the caller's own transaction then fails.
     */
    FirstKeys createFirstKeys(java.util.Collection<String> compartments);

    /** The keys {@link #createFirstKeys} made, held by the caller for as long as it writes those first records. */
    interface FirstKeys {

        /**
         * Encrypts under the key made for {@code compartment}; empty if none was made for it here, or
         * if it was made longer ago than a cached key may be used for encryption.
         */
        Optional<byte[]> encrypt(String compartment, byte[] plaintext, byte[] associatedData);
    }

    /**
     * Decrypts.
     *
     * @throws KeyDestroyedException if the compartment was crypto-shredded (its tombstone says so)
     * @throws KeyMissingException if the keyring has no key for it and no tombstone (ADR 0049)
     * @throws KeyUnavailableException if the key cannot be reached or unwrapped now
     * @throws RecordIntegrityException if the ciphertext does not authenticate under that key
     *     and associated data
     */
    byte[] decrypt(String compartment, byte[] ciphertext, byte[] associatedData);

    /**
     * Re-encrypts a ciphertext under the compartment's primary key (same associated data), or
     * returns empty if it already is under that key. Used by the DEK rotation job.
     *
     * @throws KeyDestroyedException if the compartment was crypto-shredded
     * @throws KeyMissingException if the keyring has no key for it and no tombstone (ADR 0049)
     */
    Optional<byte[]> reencryptIfStale(String compartment, byte[] ciphertext, byte[] associatedData);

    /**
     * The id of the keyset key a ciphertext was made with: Tink's output prefix is one version
     * byte (1) and the key id, big-endian. Null for a ciphertext without a Tink prefix.
     */
    static Integer keyIdOf(byte[] ciphertext) {
        if (ciphertext == null || ciphertext.length < 5 || ciphertext[0] != 1) {
            return null;
        }
        return ((ciphertext[1] & 0xff) << 24) | ((ciphertext[2] & 0xff) << 16) | ((ciphertext[3] & 0xff) << 8)
                | (ciphertext[4] & 0xff);
    }
}
