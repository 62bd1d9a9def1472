package health.carapace.incident.internal;

import health.carapace.access.Permissions;
import health.carapace.access.RoleCatalog;
import health.carapace.incident.Containment;
import health.carapace.incident.Incident;
import health.carapace.incident.IncidentState;
import health.carapace.incident.Incidents;
import health.carapace.signin.ServiceClients;
import health.carapace.signin.Users;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * {@link Containment} through the sign-in module's public API (sessions, disabling; both announced
 * to every node by the caller-change triggers) and the incident module's own blocked ranges and
 * lockdown (announced by the V19_1 triggers, enforced by {@link ContainmentFilters}).
 *
 * <p>Every input is checked before anything is done (a bad range must not leave the principal
 * disabled and the request refused). Only actions that isolate something (disabled, sessions
 * revoked, a range blocked, a lockdown imposed) mark the incident contained and stop its
 * isolation clock; the others (nothing to disable, a range that was not blocked, lifting) are
 * stamped on its timeline only.
 */
final class IncidentContainment implements Containment {

    /** The permissions that make an account an administrator whom a lockdown may let through. */
    static final Set<String> ADMINISTRATIVE = Set.of(Permissions.MANAGE_USERS, Permissions.MANAGE_KEYS,
            Permissions.MANAGE_INCIDENTS);

    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;
    private final IncidentStore store;
    private final Users users;
    private final ServiceClients clients;
    private final RoleCatalog roles;
    private final ObjectProvider<ContainmentState> state;
    private final ObjectProvider<IncidentMetrics> metrics;
    private final Clock clock;
    private final health.carapace.audit.AuditTrail audit;

    IncidentContainment(DataSource dataSource, TransactionTemplate transactions, IncidentStore store, Users users,
            ServiceClients clients, RoleCatalog roles, ObjectProvider<ContainmentState> state,
            ObjectProvider<IncidentMetrics> metrics, Clock clock, health.carapace.audit.AuditTrail audit) {
        this.audit = audit;
        this.jdbc = JdbcClient.create(dataSource);
        this.transactions = transactions;
        this.store = store;
        this.users = users;
        this.clients = clients;
        this.roles = roles;
        this.state = state;
        this.metrics = metrics;
        this.clock = clock;
    }

    @Override
    public Result contain(UUID id, Actions actions, String actor) {
        if (actions.none()) {
            throw new Incidents.Refused(Incidents.Refused.Reason.INVALID, "name at least one containment action");
        }
        List<BlockedRange> block;
        List<BlockedRange> unblock;
        try {
            block = actions.block().stream().map(BlockedRange::parse).distinct().toList();
            unblock = actions.unblock().stream().map(BlockedRange::parse).distinct().toList();
        } catch (BlockedRange.Malformed malformed) {
            throw new Incidents.Refused(Incidents.Refused.Reason.INVALID, malformed.getMessage());
        }
        List<String> allow = administrators(actions.allow());
        List<String> suspend = definedRoles(actions.suspendRoles());
        List<String> lift = definedRoles(actions.liftRoles());
        Incident incident = store.find(id).orElseThrow(IncidentStore::notFound);
        if (!incident.state().mayMoveTo(IncidentState.CONTAINED)) {
            throw new Incidents.Refused(Incidents.Refused.Reason.CONFLICT,
                    "an incident that is " + incident.state().code() + " cannot be contained");
        }
        String principal = incident.principal();
        if ((actions.revokeSessions() || actions.disable()) && principal == null) {
            throw new Incidents.Refused(Incidents.Refused.Reason.CONFLICT,
                    "this incident names an address, not a principal: block the address instead");
        }
        boolean client = principal != null && (principal.startsWith("svc-") || principal.startsWith(IncidentStore.DRILL_PREFIX));
        if (actions.revokeSessions() && !actions.disable() && client) {
            throw new Incidents.Refused(Incidents.Refused.Reason.CONFLICT,
                    "a service client has no sessions: disable it instead");
        }
        List<Done> done = new ArrayList<>();
        // The principal's own changes are committed (and announced) by the sign-in module first:
        // isolating them must not wait on anything else.
        if (actions.disable()) {
            boolean disabled = client ? clients.disable(principal, actor) : users.disable(principal, actor);
            done.add(disabled ? Done.isolating("disabled") : Done.noted("disable:no-such-principal"));
        } else if (actions.revokeSessions()) {
            try {
                done.add(Done.isolating("revoked-sessions:" + users.revokeSessions(principal, actor)));
            } catch (IllegalArgumentException noSuchUser) {
                done.add(Done.noted("revoke-sessions:no-such-principal"));
            }
        }
        Instant now = clock.instant();
        // A database failure here is the server's, not bad input: it propagates (503/500), never "bad range".
        transactions.executeWithoutResult(status -> {
            for (BlockedRange range : block) {
                jdbc.sql("""
                        insert into incident.blocked_range (id, range, incident_id, blocked_by, blocked_at)
                        values (?, ?::cidr, ?, ?, ?)""")
                        .params(UUID.randomUUID(), range.cidr(), id, actor, Timestamp.from(now)).update();
                done.add(Done.isolating("blocked:" + range.cidr()));
                auditChange(actor, id, "blocked-ranges/" + range.cidr());
            }
            for (BlockedRange range : unblock) {
                int lifted = jdbc.sql("""
                        update incident.blocked_range set lifted_at = ?, lifted_by = ?
                        where range = ?::cidr and lifted_at is null""")
                        .params(Timestamp.from(now), actor, range.cidr()).update();
                done.add(Done.noted((lifted > 0 ? "unblocked:" : "unblock:not-blocked:") + range.cidr()));
                if (lifted > 0) {
                    auditChange(actor, id, "unblocked-ranges/" + range.cidr());
                }
            }
            for (String role : suspend) {
                int suspended = jdbc.sql("""
                        insert into incident.suspended_role (id, role, incident_id, suspended_by, suspended_at)
                        values (?, ?, ?, ?, ?) on conflict (role) where lifted_at is null do nothing""")
                        .params(UUID.randomUUID(), role, id, actor, Timestamp.from(now)).update();
                done.add(suspended > 0 ? Done.isolating("suspended-role:" + role)
                        : Done.noted("suspend-role:already-suspended:" + role));
                if (suspended > 0) {
                    audit.recordInTransaction(List.of(health.carapace.audit.AuditEvent.now(actor,
                            health.carapace.audit.AuditAction.ADMIN_CHANGE,
                            "/admin/incidents/" + id + "/containment/suspended-roles/" + role,
                            health.carapace.audit.AuditContext.none(), true, null, null, null)));
                }
            }
            for (String role : lift) {
                int lifted = jdbc.sql("""
                        update incident.suspended_role set lifted_at = ?, lifted_by = ?
                        where role = ? and lifted_at is null""")
                        .params(Timestamp.from(now), actor, role).update();
                done.add(Done.noted((lifted > 0 ? "lifted-role:" : "lift-role:not-suspended:") + role));
                if (lifted > 0) {
                    audit.recordInTransaction(List.of(health.carapace.audit.AuditEvent.now(actor,
                            health.carapace.audit.AuditAction.ADMIN_CHANGE,
                            "/admin/incidents/" + id + "/containment/lifted-roles/" + role,
                            health.carapace.audit.AuditContext.none(), true, null, null, null)));
                }
            }
            if (actions.lockdown() != null) {
                jdbc.sql("""
                        insert into incident.lockdown (active, allowed, incident_id, changed_by, changed_at)
                        values (?, ?, ?, ?, ?)
                        on conflict (singleton) do update set active = excluded.active, allowed = excluded.allowed,
                            incident_id = excluded.incident_id, changed_by = excluded.changed_by,
                            changed_at = excluded.changed_at""")
                        .params(actions.lockdown(), allow.toArray(String[]::new), id, actor, Timestamp.from(now))
                        .update();
                auditChange(actor, id, actions.lockdown() ? "lockdown/imposed" : "lockdown/lifted");
                done.add(actions.lockdown() ? Done.isolating("lockdown:" + allow.size() + "-allowed")
                        : Done.noted("lockdown-lifted"));
            }
            ContainmentState cache = state.getIfAvailable();
            if (cache != null) {
                cache.changedHere();
            }
        });
        Incident after = incident;
        for (Done action : done) {
            after = action.isolates() ? store.contained(id, actor, action.detail())
                    : store.containmentNoted(id, actor, action.detail());
        }
        Duration sinceDetection = after.containedAt() == null ? null
                : Duration.between(after.detectedAt(), after.containedAt());
        if (incident.containedAt() == null && sinceDetection != null) {
            IncidentMetrics m = metrics.getIfAvailable();
            if (m != null) {
                m.contained(sinceDetection);
            }
        }
        return new Result(after, done.stream().map(Done::detail).toList(), sinceDetection);
    }

    /**
     * Audits one containment change with its detail, as the acting officer, in the change's own
     * transaction (review M3: a block or a lockdown must not reach the trail without saying what it was).
     */
    private void auditChange(String actor, UUID incident, String what) {
        audit.recordInTransaction(List.of(health.carapace.audit.AuditEvent.now(actor,
                health.carapace.audit.AuditAction.ADMIN_CHANGE, "/admin/incidents/" + incident + "/containment/" + what,
                health.carapace.audit.AuditContext.none(), true, null, null, null)));
    }

    /** The roles named, each once, all defined in the policy directory; checked before anything is done. */
    private List<String> definedRoles(List<String> names) {
        List<String> valid = new ArrayList<>();
        for (String name : names) {
            if (name == null || !health.carapace.signin.Users.ROLE_NAME.matcher(name).matches() || !roles.isDefined(name)) {
                throw new Incidents.Refused(Incidents.Refused.Reason.INVALID,
                        "a role to suspend or lift must be defined in the policy directory");
            }
            if (!valid.contains(name)) {
                valid.add(name);
            }
        }
        return valid;
    }

    /** One action taken, and whether it isolated anything. */
    private record Done(String detail, boolean isolates) {
        static Done isolating(String detail) {
            return new Done(detail, true);
        }

        static Done noted(String detail) {
            return new Done(detail, false);
        }
    }

    /**
     * The accounts a lockdown lets through, as the sign-in module spells them, each once: only user
     * accounts (never service clients), enabled, holding an administrative permission.
     */
    private List<String> administrators(List<String> names) {
        if (names.isEmpty()) {
            return List.of();
        }
        Map<String, Users.Summary> accounts = users.list().stream()
                .collect(Collectors.toMap(u -> u.userName().toLowerCase(Locale.ROOT), u -> u, (a, b) -> a));
        Set<String> administrativeRoles = roles.roles().stream()
                .filter(role -> role.permissions().stream().anyMatch(ADMINISTRATIVE::contains))
                .map(RoleCatalog.RoleSummary::name).collect(Collectors.toSet());
        Map<String, String> allowed = new LinkedHashMap<>();
        for (String name : names) {
            Users.Summary account = name == null || name.length() > 100 ? null
                    : accounts.get(name.strip().toLowerCase(Locale.ROOT));
            if (account == null || account.disabled()
                    || account.roles().stream().noneMatch(administrativeRoles::contains)) {
                throw new Incidents.Refused(Incidents.Refused.Reason.INVALID,
                        "a lockdown lets through only enabled user accounts holding an administrative permission ("
                                + ADMINISTRATIVE.stream().sorted().toList() + "); service clients are never let through");
            }
            allowed.putIfAbsent(account.userName().toLowerCase(Locale.ROOT), account.userName());
        }
        return List.copyOf(allowed.values());
    }
}
