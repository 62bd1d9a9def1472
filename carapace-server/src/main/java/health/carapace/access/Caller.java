package health.carapace.access;

import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The authenticated caller of one request, resolved from its access token and the directory on
 * every request (so that disabling, revocation and role changes take effect on the next one).
 * It is what crosses from sign-in to policy: the {@code signin} module resolves it, the policy
 * decides on it, and it lives here, in the policy's API, so that nothing in the policy depends on
 * how a caller signed in.
 *
 * @param principal user name for people, client id for service clients; what the audit trail records
 * @param kind whether a person (MFA-authenticated) or a system is calling
 * @param roles names of the roles assigned to the caller (defined in the policy directory)
 * @param practitionerId the FHIR Practitioner id a user acts as (for CareTeam / Encounter
 *     relationships), or null
 * @param appScope what the app behind the token may do (SMART scopes and patient in context);
 *     {@link AppScope#ROLES_ONLY} for tokens not issued to a SMART app. It only narrows the roles.
 */
public record Caller(String principal, Kind kind, Set<String> roles, String practitionerId, AppScope appScope) {

    public enum Kind { USER, SERVICE_CLIENT }

    /**
     * How a person's principal (an account name) is spelled: letters, digits and {@code . _ @ -},
     * unique regardless of case. Here, beside the principal, because both the accounts (sign-in)
     * and the assignments to patients (policy) check names against it.
     */
    public static final Pattern USER_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{1,63}");

    public Caller {
        Objects.requireNonNull(principal, "principal");
        Objects.requireNonNull(kind, "kind");
        roles = Set.copyOf(roles);
        appScope = appScope == null ? AppScope.ROLES_ONLY : appScope;
    }

    /** A caller decided on roles alone (no app scope). */
    public Caller(String principal, Kind kind, Set<String> roles, String practitionerId) {
        this(principal, kind, roles, practitionerId, AppScope.ROLES_ONLY);
    }
}
