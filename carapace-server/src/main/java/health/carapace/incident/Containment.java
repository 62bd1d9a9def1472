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
     */
    record Actions(boolean revokeSessions, boolean disable, List<String> block, List<String> unblock, Boolean lockdown,
            List<String> allow) {

        public Actions {
            block = block == null ? List.of() : List.copyOf(block);
            unblock = unblock == null ? List.of() : List.copyOf(unblock);
            allow = allow == null ? List.of() : List.copyOf(allow);
        }

        public boolean none() {
            return !revokeSessions && !disable && block.isEmpty() && unblock.isEmpty() && lockdown == null;
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
