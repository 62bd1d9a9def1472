package health.carapace.crypto;

/** A stored ciphertext failed authentication: it was altered, or moved from another row. */
public class RecordIntegrityException extends RuntimeException {

    public RecordIntegrityException(String message, Throwable cause) {
        super(message, cause);
    }
}
