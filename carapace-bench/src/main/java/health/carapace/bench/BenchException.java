package health.carapace.bench;

/** A run cannot go on (bad options, server unreachable, seeding failed); the message says why. */
final class BenchException extends RuntimeException {
    BenchException(String message) {
        super(message);
    }

    BenchException(String message, Throwable cause) {
        super(message, cause);
    }
}
