package health.carapace.access;

import java.util.Objects;

/**
 * The policy's answer. {@code reason} is a stable, PHI-free code (for example
 * {@code no-permission}, {@code outside-time-window}, {@code outside-ip-range},
 * {@code no-care-relationship}) that goes into the audit trail and the OperationOutcome.
 *
 * @param breakGlass true when the request is allowed only because of emergency access; the audit
 *     event is then flagged for review
 */
public record AccessDecision(boolean allowed, String reason, boolean breakGlass) {

    public AccessDecision {
        Objects.requireNonNull(reason, "reason");
    }

    public static AccessDecision allow() {
        return new AccessDecision(true, "allowed", false);
    }

    public static AccessDecision deny(String reason) {
        return new AccessDecision(false, reason, false);
    }
}
