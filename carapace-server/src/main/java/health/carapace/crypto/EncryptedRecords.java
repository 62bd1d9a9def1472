package health.carapace.crypto;

/**
 * The stored record versions and their blind-index tokens, as the key rotation jobs need to see
 * them: an {@link EncryptedStore} (re-encryption during DEK rotation) that also re-indexes.
 * Implemented by the module that owns the records (crypto cannot reach into it); every method
 * works in bounded batches after a cursor, so that a job can checkpoint and resume.
 */
public interface EncryptedRecords extends EncryptedStore {

    /**
     * Rewrites the blind-index tokens of up to {@code limit} current resources after {@code cursor}
     * under the active index key version.
     */
    Batch reindex(String cursor, int limit);

    /** Whether any stored token was made under another index key version than {@code keyVersion}. */
    boolean hasTokensOtherThan(int keyVersion);
}
