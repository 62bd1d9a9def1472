package health.carapace.audit;

import health.carapace.platform.logging.SafeMessage;

/** The audit trail could not record an event: the request must fail closed (503). */
public class AuditUnavailableException extends RuntimeException implements SafeMessage {

    public AuditUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
