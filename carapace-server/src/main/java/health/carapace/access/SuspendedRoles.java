package health.carapace.access;

/**
 * Roles suspended by incident containment (docs/INCIDENTS.md): whoever holds one loses it at their
 * next request, on every node, until it is lifted. Implemented by the incident module (which
 * caches it per node and is told of every change); the decision point asks it for every role it
 * would otherwise use. Without an implementation (offline commands) no role is suspended.
 */
public interface SuspendedRoles {

    /** @throws RuntimeException when the containment state cannot be known (the request is refused) */
    boolean suspended(String role);
}
