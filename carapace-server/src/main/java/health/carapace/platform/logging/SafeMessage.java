package health.carapace.platform.logging;

/**
 * Marks an exception whose message is written by Carapace and is known to hold no PHI (it names
 * keys, settings or files, never data). Only such messages reach logs or error responses; all
 * other exception messages are dropped, because parsers and drivers echo their input.
 */
public interface SafeMessage {
}
