package health.carapace.incident.internal;

import health.carapace.access.Caller;
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
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * {@link Containment} through the sign-in module's public API (sessions, disabling; both announced
 * to every node by the caller-change triggers) and the incident module's own blocked ranges and
 * lockdown (announced by the V19_1 triggers, enforced by {@link ContainmentFilters}).
 */
final class IncidentContainment implements Containment {

    private static final Pattern RANGE = Pattern.compile("[0-9A-Fa-f:.]{2,45}(/[0-9]{1,3})?");
    private static final Pattern PRINCIPAL = Pattern.compile("svc-[0-9a-f-]{36}|" + Caller.USER_NAME.pattern());

    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;
    private final IncidentStore store;
    private final Users users;
    private final ServiceClients clients;
    private final ObjectProvider<ContainmentState> state;
    private final ObjectProvider<IncidentMetrics> metrics;
    private final Clock clock;

    IncidentContainment(DataSource dataSource, TransactionTemplate transactions, IncidentStore store, Users users,
            ServiceClients clients, ObjectProvider<ContainmentState> state, ObjectProvider<IncidentMetrics> metrics,
            Clock clock) {
        this.jdbc = JdbcClient.create(dataSource);
        this.transactions = transactions;
        this.store = store;
        this.users = users;
        this.clients = clients;
        this.state = state;
        this.metrics = metrics;
        this.clock = clock;
    }

    @Override
    public Result contain(UUID id, Actions actions, String actor) {
        if (actions.none()) {
            throw new Incidents.Refused(Incidents.Refused.Reason.INVALID, "name at least one containment action");
        }
        for (String range : concat(actions.block(), actions.unblock())) {
            if (!RANGE.matcher(range).matches()) {
                throw new Incidents.Refused(Incidents.Refused.Reason.INVALID,
                        "an address range is an IPv4 or IPv6 address, optionally with /prefix");
            }
        }
        java.util.Map<String, String> allowOnce = new java.util.LinkedHashMap<>();
        for (String name : actions.allow()) {
            if (name == null || !PRINCIPAL.matcher(name).matches()) {
                throw new Incidents.Refused(Incidents.Refused.Reason.INVALID,
                        "the administrators a lockdown lets through are user names or client ids");
            }
            // each once (names are case-insensitive): the stored list must never hold a duplicate
            allowOnce.putIfAbsent(name.toLowerCase(java.util.Locale.ROOT), name);
        }
        List<String> allow = List.copyOf(allowOnce.values());
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
        List<String> done = new ArrayList<>();
        boolean client = principal != null && principal.startsWith("svc-");
        // The principal's own changes are committed (and announced) by the sign-in module first:
        // isolating them must not wait on anything else.
        if (actions.disable()) {
            boolean disabled = client ? clients.disable(principal, actor) : users.disable(principal);
            done.add(disabled ? "disabled" : "disable:no-such-principal");
        } else if (actions.revokeSessions()) {
            if (client) {
                throw new Incidents.Refused(Incidents.Refused.Reason.CONFLICT,
                        "a service client has no sessions: disable it instead");
            }
            try {
                done.add("revoked-sessions:" + users.revokeSessions(principal));
            } catch (IllegalArgumentException noSuchUser) {
                done.add("revoke-sessions:no-such-principal");
            }
        }
        Instant now = clock.instant();
        try {
            transactions.executeWithoutResult(status -> {
                for (String range : actions.block()) {
                    jdbc.sql("""
                            insert into incident.blocked_range (id, range, incident_id, blocked_by, blocked_at)
                            values (?, network(?::inet), ?, ?, ?)""")
                            .params(UUID.randomUUID(), range, id, actor, Timestamp.from(now)).update();
                    done.add("blocked:" + canonical(range));
                }
                for (String range : actions.unblock()) {
                    int lifted = jdbc.sql("""
                            update incident.blocked_range set lifted_at = ?, lifted_by = ?
                            where range = network(?::inet) and lifted_at is null""")
                            .params(Timestamp.from(now), actor, range).update();
                    done.add((lifted > 0 ? "unblocked:" : "unblock:not-blocked:") + canonical(range));
                }
                if (actions.lockdown() != null) {
                    jdbc.sql("""
                            insert into incident.lockdown (active, allowed, incident_id, changed_by, changed_at)
                            values (?, ?, ?, ?, ?)
                            on conflict (singleton) do update set active = excluded.active, allowed = excluded.allowed,
                                incident_id = excluded.incident_id, changed_by = excluded.changed_by,
                                changed_at = excluded.changed_at""")
                            .params(actions.lockdown(), allow.toArray(String[]::new), id, actor,
                                    Timestamp.from(now)).update();
                    done.add(actions.lockdown() ? "lockdown:" + allow.size() + "-allowed" : "lockdown-lifted");
                }
                ContainmentState cache = state.getIfAvailable();
                if (cache != null) {
                    cache.changedHere();
                }
            });
        } catch (org.springframework.dao.DataAccessException malformed) {
            throw new Incidents.Refused(Incidents.Refused.Reason.INVALID,
                    "an address range is an IPv4 or IPv6 address, optionally with /prefix");
        }
        Incident contained = null;
        for (String action : done) {
            contained = store.contained(id, actor, action);
        }
        Duration sinceDetection = Duration.between(contained.detectedAt(), contained.containedAt());
        if (incident.containedAt() == null) {
            IncidentMetrics m = metrics.getIfAvailable();
            if (m != null) {
                m.contained(sinceDetection);
            }
        }
        return new Result(contained, List.copyOf(done), sinceDetection);
    }

    /** The range as written after validation (only address characters, so safe to stamp). */
    private static String canonical(String range) {
        return range.contains("/") ? range : range + (range.contains(":") ? "/128" : "/32");
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
