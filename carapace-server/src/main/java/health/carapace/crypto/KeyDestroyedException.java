package health.carapace.crypto;

/**
 * The compartment's data keys were destroyed by crypto-shredding: its records can never be
 * decrypted again and nothing new may be encrypted for it. Not a transient failure.
 */
public class KeyDestroyedException extends KeyUnavailableException {

    public KeyDestroyedException(String message) {
        super(message);
    }
}
