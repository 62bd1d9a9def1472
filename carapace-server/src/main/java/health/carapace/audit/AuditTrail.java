package health.carapace.audit;

import java.util.List;

/**
 * Appends audit events. Both methods return only once the events are durable (or will be
 * durable exactly when the caller's transaction commits); callers must not let PHI leave the
 * server before that, and must fail the request if these throw.
 */
public interface AuditTrail {

    /**
     * Appends events in a group commit of their own and waits until it is on disk.
     *
     * @throws AuditUnavailableException if the events could not be made durable in time
     */
    void record(List<AuditEvent> events);

    /**
     * Appends events inside the caller's current database transaction, so that the change and
     * its audit record commit or roll back together.
     *
     * @throws AuditUnavailableException if the insert fails (the caller's transaction fails too)
     */
    void recordInTransaction(List<AuditEvent> events);

    /** Encrypts a search query under the audit key, bound to the event that carries it. */
    byte[] encryptQuery(java.util.UUID eventId, String query);
}
