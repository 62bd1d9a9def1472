package health.carapace.access;

import java.util.List;
import java.util.Set;

/**
 * Read-only view of the loaded roles and the permission vocabulary, for account administration and
 * access reviews (roles without constraints, unknown roles, unused permissions).
 */
public interface RoleCatalog {

    /**
     * @param hasTimeWindow whether the role is limited to a time window
     * @param hasIpRange whether the role is limited to address ranges
     * @param source the policy file the role came from
     * @param timeWindow the time window in words with its zone ({@code "08:00 to 18:00, Monday to
     *     Friday, Europe/Berlin time"}), or null without one
     * @param ipRanges the address ranges (CIDR), or null without any
     */
    record RoleSummary(String name, Set<String> permissions, boolean hasTimeWindow, boolean hasIpRange,
            boolean breakGlassOutsideIpRange, String source, String timeWindow, List<String> ipRanges) {

        /** Neither a time window nor an IP range: allowed, but an access review lists it. */
        public boolean unconstrained() {
            return !hasTimeWindow && !hasIpRange;
        }
    }

    /** Every loaded role, ordered by name. */
    List<RoleSummary> roles();

    /** Whether a role of this name is defined; a caller's undefined roles grant nothing. */
    boolean isDefined(String role);

    /**
     * The permissions any one of which opens this interaction on this resource type (empty: none
     * does), from the permission vocabulary: how an access review tells which granted permissions
     * an audited action used.
     *
     * @param category a policy-relevant sub-kind, as in {@link AccessRequest#category()}, or null
     */
    Set<String> permissionsOpening(Interaction interaction, String resourceType, String category);

    /** Every resource type that some permission opens an interaction on (what SMART's {@code *} scopes can reach). */
    Set<String> resourceTypes();
}
