package health.carapace.access;

import java.time.Instant;
import java.util.UUID;

/**
 * Published (Spring application event) when a caller opens emergency access to a patient, after
 * the grant and its audit event have committed. References only: the reason is PHI-bearing free
 * text and stays encrypted in the database. The audit and incident modules consume this.
 */
public record BreakGlassOpened(UUID grantId, String principal, String patient, Instant openedAt, Instant expiresAt) {
}
