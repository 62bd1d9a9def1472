package health.carapace.access;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an app was allowed to do on a caller's behalf: the SMART App Launch 2.0 scopes granted to
 * its token, and the patient in context. It only ever <em>narrows</em> a decision: the caller's
 * roles decide first, then a request outside every granted scope is refused
 * ({@link #OUTSIDE_APP_SCOPE}). A caller whose token carries no app scope ({@link #ROLES_ONLY}:
 * the existing sign-in apps and service clients) is decided on roles alone, as before.
 *
 * <p>Grammar (SMART 2.0 §"Scopes for requesting clinical data"): {@code context/Type.perms[?query]}
 * with context {@code patient}, {@code user} or {@code system}, Type a FHIR resource type or
 * {@code *}, perms a non-empty subsequence of {@code c r u d s} in that order; the SMART 1 forms
 * {@code read}, {@code write} and {@code *} are read as {@code rs}, {@code cud} and {@code cruds}.
 * Scopes with a query ({@code user/Observation.rs?category=laboratory}) parse, but are never
 * granted: the category of most records is inside their ciphertext, so the server cannot enforce
 * them before decrypting (docs/SMART.md).
 */
public final class AppScope {

    /** The refusal reason when the roles allow a request but the app's scopes do not. */
    public static final String OUTSIDE_APP_SCOPE = "outside-app-scope";

    /** Decisions on roles alone: every token that was not issued to a SMART app. */
    public static final AppScope ROLES_ONLY = new AppScope(false, List.of(), null);

    /** Whose records a resource scope reaches. */
    public enum Context { PATIENT, USER, SYSTEM }

    /** The SMART 2.0 permission letters, in their required order. */
    public enum Permission {
        C, R, U, D, S;

        char letter() {
            return Character.toLowerCase(name().charAt(0));
        }
    }

    private static final Pattern RESOURCE = Pattern.compile(
            "(patient|user|system)/(\\*|[A-Z][A-Za-z]{1,63})\\.(c?r?u?d?s?|read|write|\\*)(\\?[A-Za-z0-9_.:|,=&%\\-]{1,256})?");

    /** Scopes that grant no data themselves (launch context, identity, refresh). */
    public static final Set<String> NON_RESOURCE = Set.of("launch", "launch/patient", "launch/encounter", "openid",
            "fhirUser", "profile", "offline_access", "online_access");

    /**
     * One resource scope.
     *
     * @param type a FHIR resource type, or {@code *}
     * @param query the query that restricts it (without {@code ?}), or null
     */
    public record ResourceScope(Context context, String type, Set<Permission> permissions, String query) {

        public ResourceScope {
            Objects.requireNonNull(context);
            Objects.requireNonNull(type);
            permissions = permissions.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(permissions));
        }

        /** Whether this scope names the interaction on the type (the patient is checked apart). */
        public boolean covers(Interaction interaction, String resourceType) {
            return query == null && ("*".equals(type) || type.equals(resourceType))
                    && permissions.contains(permissionFor(interaction));
        }

        /** Whether the server can enforce it: no query. */
        public boolean servable() {
            return query == null;
        }

        /** The same scope with only these permissions (the v2 spelling). */
        public ResourceScope withPermissions(Set<Permission> kept) {
            return new ResourceScope(context, type, kept, query);
        }

        @Override
        public String toString() {
            StringBuilder letters = new StringBuilder();
            for (Permission p : Permission.values()) {
                if (permissions.contains(p)) {
                    letters.append(p.letter());
                }
            }
            return context.name().toLowerCase(java.util.Locale.ROOT) + "/" + type + "." + letters
                    + (query == null ? "" : "?" + query);
        }
    }

    private final boolean narrows;
    private final List<ResourceScope> grants;
    /** {@code Patient/<id>} of the patient in context, or null. */
    private final String patient;

    private AppScope(boolean narrows, List<ResourceScope> grants, String patient) {
        this.narrows = narrows;
        this.grants = List.copyOf(grants);
        this.patient = patient;
    }

    /**
     * The scope of a SMART app's token: its granted scopes (unknown or unservable ones grant
     * nothing) and the patient in context (a bare id or {@code Patient/<id>}, or null). Patient
     * scopes without a patient in context reach nothing.
     */
    public static AppScope granted(Collection<String> scopes, String patientId) {
        List<ResourceScope> grants = new ArrayList<>();
        for (String scope : scopes) {
            parseResource(scope).filter(ResourceScope::servable).ifPresent(grants::add);
        }
        String patient = patientId == null || patientId.isBlank() ? null
                : patientId.startsWith("Patient/") ? patientId : "Patient/" + patientId;
        return new AppScope(true, grants, patient);
    }

    /** A resource scope, or empty if the text is not one (it may still be a {@link #NON_RESOURCE} scope). */
    public static Optional<ResourceScope> parseResource(String scope) {
        if (scope == null) {
            return Optional.empty();
        }
        Matcher m = RESOURCE.matcher(scope);
        if (!m.matches()) {
            return Optional.empty();
        }
        String perms = m.group(3);
        Set<Permission> permissions = EnumSet.noneOf(Permission.class);
        switch (perms) {
            case "read" -> permissions.addAll(EnumSet.of(Permission.R, Permission.S));
            case "write" -> permissions.addAll(EnumSet.of(Permission.C, Permission.U, Permission.D));
            case "*" -> permissions.addAll(EnumSet.allOf(Permission.class));
            default -> {
                for (char c : perms.toCharArray()) {
                    permissions.add(Permission.valueOf(String.valueOf(Character.toUpperCase(c))));
                }
            }
        }
        if (permissions.isEmpty()) {
            return Optional.empty();
        }
        Context context = Context.valueOf(m.group(1).toUpperCase(java.util.Locale.ROOT));
        String query = m.group(4) == null ? null : m.group(4).substring(1);
        return Optional.of(new ResourceScope(context, m.group(2), permissions, query));
    }

    /** Whether the text is a scope this server knows (a resource scope or a {@link #NON_RESOURCE} one). */
    public static boolean known(String scope) {
        return NON_RESOURCE.contains(scope) || parseResource(scope).isPresent();
    }

    /** The SMART letter an interaction needs: read and vread {@code r}, search and history {@code s}. */
    public static Permission permissionFor(Interaction interaction) {
        return switch (interaction) {
            case READ, VREAD -> Permission.R;
            case SEARCH, HISTORY -> Permission.S;
            case CREATE -> Permission.C;
            case UPDATE, PATCH -> Permission.U;
            case DELETE -> Permission.D;
        };
    }

    /** False for {@link #ROLES_ONLY}: the roles decide alone. */
    public boolean narrows() {
        return narrows;
    }

    /** {@code Patient/<id>} of the patient in context. */
    public Optional<String> patient() {
        return Optional.ofNullable(patient);
    }

    public List<ResourceScope> grants() {
        return grants;
    }

    /** Whether a granted scope reaches this interaction on a record of the type in this compartment. */
    public boolean permits(Interaction interaction, String type, String compartment) {
        if (!narrows) {
            return true;
        }
        for (ResourceScope grant : grants) {
            if (grant.covers(interaction, type)
                    && (grant.context() != Context.PATIENT || (patient != null && patient.equals(compartment)))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Over many records (a search): empty if no granted scope reaches the interaction on the type;
     * otherwise the one patient compartment the search must stay in when only patient scopes reach
     * it, or "" when a user or system scope does (no further narrowing).
     */
    public Optional<String> searchCompartment(Interaction interaction, String type) {
        if (!narrows) {
            return Optional.of("");
        }
        boolean viaPatient = false;
        for (ResourceScope grant : grants) {
            if (grant.covers(interaction, type)) {
                if (grant.context() != Context.PATIENT) {
                    return Optional.of("");
                }
                viaPatient = true;
            }
        }
        return viaPatient && patient != null ? Optional.of(patient) : Optional.empty();
    }

    /** The granted scopes, spelt in SMART v2 form, in order. */
    public Set<String> spelled() {
        Set<String> out = new LinkedHashSet<>();
        grants.forEach(g -> out.add(g.toString()));
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AppScope other && narrows == other.narrows && grants.equals(other.grants)
                && Objects.equals(patient, other.patient);
    }

    @Override
    public int hashCode() {
        return Objects.hash(narrows, grants, patient);
    }

    @Override
    public String toString() {
        return narrows ? "AppScope" + spelled() : "AppScope[roles only]";
    }
}
