package health.carapace.signin.internal;

import health.carapace.access.Caller;
import health.carapace.access.CareRelationships;
import health.carapace.access.Interaction;
import health.carapace.access.Permissions;
import health.carapace.access.RoleCatalog;
import health.carapace.audit.AuditQueries;
import health.carapace.signin.AccessReview;
import health.carapace.signin.Users;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;

/**
 * Builds the access review from the directory (users, service clients, sessions), the loaded
 * roles, and the audit trail. A permission counts as used when the principal has a successful
 * audited action it is needed for in the window (see docs/ACCESS.md, "Access review"):
 * viewed/searched → the view permissions of the resource type, created/modified/deleted → the
 * edit permissions, the audit trail → view:audit, administrative changes → manage:users,
 * a patient reached outside any current care relationship → view:all_patients, a Patient read
 * → view:ssn. Where the trail cannot tell which of two permissions was used (an imaging or a
 * plain DocumentReference), both count as used, so "unused" never names one that was used.
 */
@Service
class AccessReviewReport implements AccessReview {

    private static final Set<Interaction> VIEW = EnumSet.of(Interaction.READ, Interaction.SEARCH);
    private static final Set<Interaction> EDIT = EnumSet.of(Interaction.CREATE, Interaction.UPDATE, Interaction.DELETE);
    private static final Set<String> ADMIN_ACTIONS = Set.of("admin_change", "user_created", "user_disabled",
            "roles_changed", "session_revoked");

    private final JdbcClient jdbc;
    private final RoleCatalog roles;
    private final Users users;
    private final RecentUsage usage;
    private final CareRelationships relationships;
    private final AuditQueries audit;

    AccessReviewReport(DataSource dataSource, RoleCatalog roles, Users users, RecentUsage usage,
            CareRelationships relationships, AuditQueries audit) {
        this.jdbc = JdbcClient.create(dataSource);
        this.roles = roles;
        this.users = users;
        this.usage = usage;
        this.relationships = relationships;
        this.audit = audit;
    }

    @Override
    public Report report(int days, Instant now) {
        return report(days, now, false);
    }

    @Override
    public Report recentReport(int days, Instant now) {
        return report(days, now, true);
    }

    /**
     * No query here runs while another holds a connection: each list is read whole, then each
     * principal's usage is read. (Reading the usage inside the row mapper of the service clients'
     * query held one connection while asking for a second, so as many readers as the pool has
     * connections each held one and waited for another until the pool timed out: a 503 for all.)
     */
    private Report report(int days, Instant now, boolean reuseUsage) {
        if (days < 1 || days > 3660) {
            throw new IllegalArgumentException("days must be between 1 and 3660");
        }
        Instant since = now.minus(Duration.ofDays(days));
        Map<String, RoleCatalog.RoleSummary> byName = new HashMap<>();
        roles.roles().forEach(role -> byName.put(role.name(), role));
        List<Principal> principals = new ArrayList<>();
        List<String> withoutMfa = new ArrayList<>();
        Map<String, SignIns> signIns = new HashMap<>();
        jdbc.sql("select u.user_name, u.created_at, max(s.created_at) from iam.app_user u "
                        + "left join iam.session s on s.user_id = u.id group by u.id, u.user_name, u.created_at")
                .query((rs, n) -> new SignIns(rs.getString(1), rs.getTimestamp(2).toInstant(),
                        rs.getTimestamp(3) == null ? null : rs.getTimestamp(3).toInstant()))
                .list()
                .forEach(row -> signIns.put(row.userName(), row));
        for (Users.Summary user : users.list()) {
            SignIns seen = signIns.get(user.userName());
            Instant lastSignIn = seen == null ? null : seen.last();
            // dormant: nobody has signed in to it in the window (a new account is given the window first)
            boolean dormant = !user.disabled() && seen != null && seen.created().isBefore(since)
                    && (lastSignIn == null || lastSignIn.isBefore(since));
            principals.add(principal(user.userName(), "user", user.roles(), user.practitionerId(), user.disabled(),
                    user.mfaEnrolled(), lastSignIn, dormant, byName, days, now, reuseUsage));
            if (!user.mfaEnrolled()) {
                withoutMfa.add(user.userName());
            }
        }
        List<ClientRow> clients = jdbc.sql("select client_id, roles, disabled, created_at from iam.service_client "
                        + "order by client_id")
                .query((rs, n) -> new ClientRow(rs.getString(1), Set.of((String[]) rs.getArray(2).getArray()),
                        rs.getBoolean(3), rs.getTimestamp(4).toInstant()))
                .list();
        for (ClientRow client : clients) {
            boolean mayBeDormant = !client.disabled() && client.created().isBefore(since);
            principals.add(principal(client.clientId(), "service-client", client.roles(), null, client.disabled(),
                    false, null, mayBeDormant, byName, days, now, reuseUsage));
        }
        List<String> dormant = principals.stream().filter(Principal::dormant).map(Principal::name).toList();
        List<String> live = jdbc.sql("""
                select distinct u.user_name from iam.app_user u join iam.session s on s.user_id = u.id
                where u.disabled and s.revoked_at is null and s.idle_expires_at > ? and s.absolute_expires_at > ?
                order by u.user_name""")
                .params(Timestamp.from(now), Timestamp.from(now))
                .query(String.class)
                .list();
        List<String> unconstrained = byName.values().stream().filter(RoleCatalog.RoleSummary::unconstrained)
                .map(RoleCatalog.RoleSummary::name).sorted().toList();
        return new Report(now, days, principals, withoutMfa, dormant, live, unconstrained);
    }

    /** A user's account creation and latest sign-in (null if never). */
    private record SignIns(String userName, Instant created, Instant last) {}

    /** A service client as its row says, read whole before any usage is read. */
    private record ClientRow(String clientId, Set<String> roles, boolean disabled, Instant created) {}

    /**
     * @param mayBeDormant a user's sign-in rule (decided by the caller), or for a service client
     *     that it is enabled and older than the window; a service client is dormant only if it also
     *     has no successful audited action in the window
     */
    private Principal principal(String name, String kind, Set<String> assigned, String practitionerId, boolean disabled,
            boolean mfa, Instant lastSignIn, boolean mayBeDormant, Map<String, RoleCatalog.RoleSummary> byName,
            int days, Instant now, boolean reuseUsage) {
        Set<String> granted = new TreeSet<>();
        Set<String> undefined = new TreeSet<>();
        for (String role : assigned) {
            RoleCatalog.RoleSummary summary = byName.get(role);
            if (summary == null) {
                undefined.add(role);
            } else {
                granted.addAll(summary.permissions());
            }
        }
        // only the usage may be a recent reading: what it is compared with (roles, care relationships) is live
        RecentUsage.Reading reading = reuseUsage ? usage.usage(name, days, now) : usage.usageNow(name, days, now);
        List<AuditQueries.Usage> usages = reading.usages();
        Set<String> used = used(name, practitionerId, granted, usages, now.minus(java.time.Duration.ofDays(days)));
        Set<String> unused = new TreeSet<>(granted);
        unused.removeAll(used);
        boolean dormant = "user".equals(kind) ? mayBeDormant : mayBeDormant && usages.isEmpty();
        return new Principal(name, kind, new TreeSet<>(assigned), granted, unused, undefined, disabled, mfa, lastSignIn,
                dormant, reading.readAt());
    }

    private Set<String> used(String name, String practitionerId, Set<String> granted, List<AuditQueries.Usage> usages,
            Instant since) {
        Set<String> used = new TreeSet<>();
        boolean onRecords = false;
        for (AuditQueries.Usage usage : usages) {
            String action = usage.action();
            if (ADMIN_ACTIONS.contains(action)) {
                used.add(Permissions.MANAGE_USERS);
            }
            if ("audit".equals(usage.type()) || "AuditEvent".equals(usage.type()) || "exported".equals(action)) {
                used.add(Permissions.VIEW_AUDIT);
                continue;
            }
            if (!"fhir".equals(usage.area()) || usage.type() == null || usage.type().isEmpty()) {
                continue;
            }
            onRecords = true;
            Set<Interaction> interactions = switch (action) {
                case "viewed", "searched" -> VIEW;
                case "created", "modified", "deleted" -> EDIT;
                default -> Set.of();
            };
            for (Interaction interaction : interactions) {
                used.addAll(roles.permissionsOpening(interaction, usage.type(), null));
                used.addAll(roles.permissionsOpening(interaction, usage.type(), Permissions.IMAGING_CATEGORY));
            }
            if (interactions == VIEW && "Patient".equals(usage.type())) {
                used.add(Permissions.VIEW_SSN);
            }
        }
        // Asked of the trail, live, and only when it matters: which patients a principal reached is
        // not part of the (cached) usage, which for a service client could name a million of them.
        if (granted.contains(Permissions.VIEW_ALL_PATIENTS) && onRecords) {
            Caller caller = new Caller(name, Caller.Kind.USER, Set.of(), practitionerId);
            if (audit.actedOutside(name, since, relationships.patientsOf(caller))) {
                used.add(Permissions.VIEW_ALL_PATIENTS);
            }
        }
        used.retainAll(granted);
        return used;
    }
}
