package health.carapace.console.internal;

/**
 * A console request refused: its HTTP status and a message of ours, shown on the error page. The
 * message never holds anything the request sent.
 */
final class ConsoleRefusal extends RuntimeException implements health.carapace.platform.logging.SafeMessage {

    private static final long serialVersionUID = 1L;

    private final int status;

    ConsoleRefusal(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    int status() {
        return status;
    }
}
