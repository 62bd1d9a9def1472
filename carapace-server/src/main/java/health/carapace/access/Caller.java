package health.carapace.access;

import java.util.Objects;
import java.util.Set;

/**
 * The authenticated caller of one request, resolved from its access token and the directory on
 * every request (so that disabling, revocation and role changes take effect on the next one).
 *
 * @param principal user name for people, client id for service clients; what the audit trail records
 * @param kind whether a person (MFA-authenticated) or a system is calling
 * @param roles names of the roles assigned to the caller (defined in the policy directory)
 * @param practitionerId the FHIR Practitioner id a user acts as (for CareTeam / Encounter
 *     relationships), or null
 */
public record Caller(String principal, Kind kind, Set<String> roles, String practitionerId) {

    public enum Kind { USER, SERVICE_CLIENT }

    public Caller {
        Objects.requireNonNull(principal, "principal");
        Objects.requireNonNull(kind, "kind");
        roles = Set.copyOf(roles);
    }
}
