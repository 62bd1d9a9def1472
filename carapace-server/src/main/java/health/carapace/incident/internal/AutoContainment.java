package health.carapace.incident.internal;

import health.carapace.incident.Containment;
import health.carapace.incident.Incidents;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;

/**
 * Containment a detector applies by itself to the incidents it opens
 * ({@code carapace.incident.auto-contain.<detector>=block-address,revoke-sessions,disable}; off by
 * default). It goes through {@link Containment} like an officer's command, so it is audited, takes
 * effect on every node and stamps the incident, as done by {@code carapace:incidents}.
 *
 * <p>Never allowed at start: disabling or revoking for {@code credential-attack} (its account is the
 * victim, the address the attacker) and anything for {@code audit-integrity} (it names no one).
 * A drill's address is never blocked (it is the operator's own machine): the drill contains itself.
 */
final class AutoContainment {

    private static final Logger log = LoggerFactory.getLogger(AutoContainment.class);

    enum Action {
        BLOCK_ADDRESS, REVOKE_SESSIONS, DISABLE;

        String code() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** Detector codes that may be configured (the detectors' stable codes). */
    static final List<String> DETECTORS = List.of(SelfAccessDetector.CODE, SameFamilyNameDetector.CODE, "vip-access",
            "coworker-access", "volume", "unusual-hours", "repeated-denials", CredentialAttackDetector.CODE,
            "bulk-read", AuditIntegrityWatch.CODE);

    private final Map<String, Set<Action>> configured;
    private final Containment containment;

    AutoContainment(Map<String, Set<Action>> configured, Containment containment) {
        this.configured = Map.copyOf(configured);
        this.containment = containment;
    }

    /** Reads every detector's setting, adding one sentence per bad one to {@code problems}. */
    static Map<String, Set<Action>> parse(Environment environment, String prefix, List<String> problems) {
        Map<String, Set<Action>> parsed = new LinkedHashMap<>();
        for (String detector : DETECTORS) {
            String text = environment.getProperty(prefix + detector, "").strip();
            if (text.isEmpty()) {
                continue;
            }
            Set<Action> actions = EnumSet.noneOf(Action.class);
            boolean malformed = false;
            for (String part : text.split(",")) {
                String code = part.strip();
                Action action = null;
                for (Action candidate : Action.values()) {
                    if (candidate.code().equals(code)) {
                        action = candidate;
                    }
                }
                if (action == null) {
                    malformed = true;
                } else {
                    actions.add(action);
                }
            }
            if (malformed) {
                problems.add(prefix + detector + " must be a comma-separated list of block-address, revoke-sessions, disable");
            } else if (AuditIntegrityWatch.CODE.equals(detector)) {
                problems.add(prefix + detector + " cannot be set: an audit-integrity incident names no one to contain");
            } else if (CredentialAttackDetector.CODE.equals(detector) && !actions.equals(EnumSet.of(Action.BLOCK_ADDRESS))) {
                problems.add(prefix + detector + " may only be block-address: the account of a credential attack is its victim");
            } else {
                parsed.put(detector, Set.copyOf(actions));
            }
        }
        return parsed;
    }

    /** Contains each newly opened incident whose detector is configured; failures are logged, never thrown. */
    void opened(List<IncidentStore.Opened> opened) {
        for (IncidentStore.Opened o : opened) {
            Set<Action> actions = configured.get(o.detection().detector());
            if (actions == null || actions.isEmpty()) {
                continue;
            }
            try {
                containment.contain(o.id(), actionsFor(o, actions), AuditedAccess.SELF);
            } catch (Incidents.Refused | IllegalStateException refused) {
                log.warn("Automatic containment of incident {} ({}) was refused: {}", o.id(), o.detection().detector(),
                        refused instanceof Incidents.Refused r ? r.getMessage() : refused.getClass().getSimpleName());
            } catch (RuntimeException e) {
                log.error("Automatic containment of incident {} failed; contain it by hand", o.id(), e);
            }
        }
    }

    private static Containment.Actions actionsFor(IncidentStore.Opened o, Set<Action> actions) {
        Detection d = o.detection();
        boolean drill = d.drill();
        List<String> block = new ArrayList<>();
        if (actions.contains(Action.BLOCK_ADDRESS) && d.address() != null && !drill) {
            block.add(d.address());
        }
        boolean person = d.principal() != null;
        boolean disable = actions.contains(Action.DISABLE) && person;
        boolean revoke = actions.contains(Action.REVOKE_SESSIONS) && person && !d.principal().startsWith("svc-")
                && !d.principal().startsWith(IncidentStore.DRILL_PREFIX);
        if (drill && block.isEmpty() && actions.contains(Action.BLOCK_ADDRESS) && person) {
            disable = true; // a drill stands in for the address block by disabling its own synthetic principal
        }
        return new Containment.Actions(revoke, disable, block, List.of(), null, List.of());
    }
}
