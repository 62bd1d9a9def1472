package health.carapace.crypto;

/**
 * A key needed to encrypt or decrypt could not be obtained. Callers must fail the request:
 * there is no plaintext fallback anywhere in Carapace. Messages name keys, never data.
 */
public class KeyUnavailableException extends RuntimeException {

    public KeyUnavailableException(String message) {
        super(message);
    }

    public KeyUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
