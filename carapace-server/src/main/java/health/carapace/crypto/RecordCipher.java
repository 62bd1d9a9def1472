package health.carapace.crypto;

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
     * Decrypts.
     *
     * @throws KeyUnavailableException if the compartment's key is missing or cannot be unwrapped
     * @throws RecordIntegrityException if the ciphertext does not authenticate under that key
     *     and associated data
     */
    byte[] decrypt(String compartment, byte[] ciphertext, byte[] associatedData);
}
