package health.carapace.crypto;

/**
 * The keyring answered and holds no data key for a compartment that has records, and no shredding
 * record (the keyring's tombstone) says the keys were destroyed: a keyring restored from a backup
 * older than the records, or a row deleted outside Carapace (ADR 0049). The records may still be
 * readable once the right keyring is restored, so this is never reported as a shredding (410): it
 * is an operator's problem, and jobs that meet it stop instead of skipping the records. The message
 * names no compartment.
 */
public class KeyMissingException extends KeyUnavailableException {

    public KeyMissingException(String message) {
        super(message);
    }
}
