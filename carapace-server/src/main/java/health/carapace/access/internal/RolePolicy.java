package health.carapace.access.internal;

import health.carapace.access.AccessDecision;
import health.carapace.access.AccessPolicy;
import health.carapace.access.AccessRequest;
import health.carapace.access.Caller;
import health.carapace.access.Interaction;
import health.carapace.access.Permissions;
import health.carapace.access.RoleCatalog;
import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The decision point over the roles of the policy directory. Pure: it reads one immutable
 * {@link PolicySnapshot} per decision (replaced atomically on reload) and touches no database,
 * so it can run on every request. Deny by default; the rules are in docs/ACCESS.md.
 */
final class RolePolicy implements AccessPolicy, RoleCatalog {

    static final String ALLOWED = "allowed";
    static final String BREAK_GLASS = "break-glass";
    static final String NO_ROLE = "no-role";
    static final String UNKNOWN_ROLE = "unknown-role";
    static final String NO_PERMISSION = "no-permission";
    static final String OUTSIDE_IP_RANGE = "outside-ip-range";
    static final String OUTSIDE_TIME_WINDOW = "outside-time-window";
    static final String NO_CARE_RELATIONSHIP = "no-care-relationship";

    private static final AccessDecision ALLOW = AccessDecision.allow();
    private static final AccessDecision ALLOW_BREAK_GLASS = new AccessDecision(true, BREAK_GLASS, true);

    private final AtomicReference<PolicySnapshot> current;
    private final java.util.function.Supplier<health.carapace.access.SuspendedRoles> suspensions;
    /** Resolved once found (a bean lookup per decision would cost every request). */
    private volatile health.carapace.access.SuspendedRoles suspended;

    RolePolicy(PolicySnapshot initial) {
        this(initial, () -> null);
    }

    /** @param suspensions roles suspended by containment (null from the supplier: none) */
    RolePolicy(PolicySnapshot initial, java.util.function.Supplier<health.carapace.access.SuspendedRoles> suspensions) {
        this.current = new AtomicReference<>(Objects.requireNonNull(initial));
        this.suspensions = suspensions;
    }

    /** The role as the decision may use it: null when undefined or suspended by containment. */
    private Role usable(PolicySnapshot policy, String name) {
        Role role = policy.role(name);
        if (role == null) {
            return null;
        }
        health.carapace.access.SuspendedRoles known = suspended;
        if (known == null) {
            known = suspensions.get();
            suspended = known;
        }
        return known != null && known.suspended(name) ? null : role;
    }

    void install(PolicySnapshot snapshot) {
        current.set(Objects.requireNonNull(snapshot));
    }

    PolicySnapshot snapshot() {
        return current.get();
    }

    @Override
    public AccessDecision decide(AccessRequest request) {
        PolicySnapshot policy = current.get();
        Set<String> roles = request.caller().roles();
        if (roles.isEmpty()) {
            return AccessDecision.deny(NO_ROLE);
        }
        Set<String> opening = PermissionVocabulary.permissionsFor(request.interaction(), request.resourceType(),
                request.category());
        boolean unknownRole = false;
        boolean holder = false;
        boolean addressOk = false;
        boolean fullyOk = false;
        boolean fullyOkAllPatients = false;
        boolean breakGlassOk = false;
        for (String name : roles) {
            Role role = usable(policy, name);
            if (role == null) {
                unknownRole = true;
                continue;
            }
            if (!holdsAny(role.permissions(), opening)) {
                continue;
            }
            holder = true;
            boolean ip = role.addressAllowed(request.clientAddress());
            if (ip || role.breakGlassOutsideIpRange()) {
                breakGlassOk = true;
            }
            if (!ip) {
                continue;
            }
            addressOk = true;
            if (role.timeAllowed(request.at())) {
                fullyOk = true;
                if (role.permissions().contains(Permissions.VIEW_ALL_PATIENTS)) {
                    fullyOkAllPatients = true;
                    break;
                }
            }
        }
        switch (request.relation()) {
            case NOT_PATIENT_DATA, CARE_RELATIONSHIP -> {
                if (fullyOk) {
                    return ALLOW;
                }
            }
            case NONE -> {
                if (fullyOkAllPatients) {
                    return ALLOW;
                }
                if (fullyOk) {
                    return AccessDecision.deny(NO_CARE_RELATIONSHIP);
                }
            }
            case BREAK_GLASS -> {
                if (fullyOkAllPatients) {
                    // Allowed without emergency access: nothing to flag.
                    return ALLOW;
                }
                if (breakGlassOk) {
                    return ALLOW_BREAK_GLASS;
                }
                if (holder) {
                    return AccessDecision.deny(OUTSIDE_IP_RANGE);
                }
            }
        }
        if (!holder) {
            return AccessDecision.deny(unknownRole ? UNKNOWN_ROLE : NO_PERMISSION);
        }
        return AccessDecision.deny(addressOk ? OUTSIDE_TIME_WINDOW : OUTSIDE_IP_RANGE);
    }

    @Override
    public boolean grants(Caller caller, String permission, InetAddress clientAddress, Instant at) {
        // A SMART app acting for someone reaches FHIR records only: no administration, audit,
        // keys, metrics or compliance, whatever the person's roles hold. Masking and care-team
        // scoping (view:ssn, view:all_patients) still come from the roles.
        if (caller.appScope().narrows() && !Permissions.VIEW_SSN.equals(permission)
                && !Permissions.VIEW_ALL_PATIENTS.equals(permission)) {
            return false;
        }
        PolicySnapshot policy = current.get();
        for (String name : caller.roles()) {
            Role role = usable(policy, name);
            if (role != null && role.permissions().contains(permission) && role.addressAllowed(clientAddress)
                    && role.timeAllowed(at)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public List<RoleSummary> roles() {
        // Summarised once per installed policy: the console's pages list every role on each visit.
        PolicySnapshot policy = current.get();
        Summaries known = summaries;
        if (known == null || known.of() != policy) {
            known = new Summaries(policy, summarise(policy));
            summaries = known;
        }
        return known.roles();
    }

    /** The role summaries of one installed policy. */
    private record Summaries(PolicySnapshot of, List<RoleSummary> roles) {}

    private volatile Summaries summaries;

    private static List<RoleSummary> summarise(PolicySnapshot policy) {
        List<RoleSummary> out = new ArrayList<>();
        for (String name : policy.names()) {
            Role role = policy.role(name);
            out.add(new RoleSummary(name, role.permissions(), role.timeWindow() != null, role.ipRanges() != null,
                    role.breakGlassOutsideIpRange(), role.source(),
                    role.timeWindow() == null ? null : role.timeWindow().inWords() + ", " + role.timeZone().getId() + " time",
                    role.ipRanges() == null ? null : role.ipRanges().stream().map(CidrBlock::toString).toList()));
        }
        return List.copyOf(out);
    }

    @Override
    public boolean isDefined(String role) {
        return current.get().role(role) != null;
    }

    @Override
    public Set<String> resourceTypes() {
        return PermissionVocabulary.resourceTypes();
    }

    @Override
    public Set<String> permissionsOpening(Interaction interaction, String resourceType, String category) {
        return PermissionVocabulary.permissionsFor(interaction, resourceType, category);
    }

    private static boolean holdsAny(Set<String> held, Set<String> opening) {
        for (String permission : opening) {
            if (held.contains(permission)) {
                return true;
            }
        }
        return false;
    }
}
