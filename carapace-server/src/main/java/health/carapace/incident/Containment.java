package health.carapace.incident;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * Containing an incident (docs/INCIDENTS.md): each action takes effect on the next request on
 * every node, is audited, and stamps the incident's timeline; the first one that isolates something
 * (disabling, revoking sessions, blocking, a lockdown) moves it to {@code contained}.
 */
public interface Containment {

    /**
     * What to do. {@code revokeSessions} and {@code disable} act on the incident's principal.
     *
     * @param block address ranges to block (CIDR or a single address)
     * @param unblock ranges to lift
     * @param lockdown true to refuse every PHI request except {@code allow}'s, false to lift it, null to leave it
     * @param allow the named administrators who pass a lockdown
     * @param suspendRoles roles of the policy directory whose every holder loses them until lifted
     * @param liftRoles suspended roles to give back
     */
    record Actions(boolean revokeSessions, boolean disable, List<String> block, List<String> unblock, Boolean lockdown,
            List<String> allow, List<String> suspendRoles, List<String> liftRoles) {

        public Actions {
            block = block == null ? List.of() : List.copyOf(block);
            unblock = unblock == null ? List.of() : List.copyOf(unblock);
            allow = allow == null ? List.of() : List.copyOf(allow);
            suspendRoles = suspendRoles == null ? List.of() : List.copyOf(suspendRoles);
            liftRoles = liftRoles == null ? List.of() : List.copyOf(liftRoles);
        }

        /** Without role suspensions. */
        public Actions(boolean revokeSessions, boolean disable, List<String> block, List<String> unblock,
                Boolean lockdown, List<String> allow) {
            this(revokeSessions, disable, block, unblock, lockdown, allow, null, null);
        }

        public boolean none() {
            return !revokeSessions && !disable && block.isEmpty() && unblock.isEmpty() && lockdown == null
                    && suspendRoles.isEmpty() && liftRoles.isEmpty();
        }
    }

    /**
     * What was done and how long after detection the incident was first contained ({@code null}
     * while no action has isolated anything: those are stamped on the timeline only).
     */
    record Result(Incident incident, List<String> done, Duration detectionToContainment) {}

    /** @throws Incidents.Refused for an unknown incident, a closed one, or actions that do not apply */
    Result contain(UUID incident, Actions actions, String actor);
}
