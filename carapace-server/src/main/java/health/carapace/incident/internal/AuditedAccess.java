package health.carapace.incident.internal;

import health.carapace.audit.AuditQueries.StoredEvent;
import java.util.Set;

/** The questions the detectors ask of one audit event, answered once, here. */
final class AuditedAccess {

    /** Actions that reach a patient's records. */
    private static final Set<String> RECORD_ACTIONS = Set.of("viewed", "searched", "created", "modified", "deleted");
    /** The principal the incident module audits its own actions as: never itself a subject. */
    static final String SELF = "carapace:incidents";

    private AuditedAccess() {
    }

    /** A successful access to one patient's records by a known principal. */
    static boolean patientAccess(StoredEvent e) {
        return e.success() && e.patient() != null && RECORD_ACTIONS.contains(e.action()) && knownPrincipal(e.user());
    }

    /** A successful use of the records by a known principal, with or without a patient (a search page). */
    static boolean recordUse(StoredEvent e) {
        return e.success() && RECORD_ACTIONS.contains(e.action()) && knownPrincipal(e.user());
    }

    /** Emergency access: opening break-glass, or any access made under it. */
    static boolean breakGlass(StoredEvent e) {
        return e.success() && (e.breakGlass() || "break_glass".equals(e.action())) && knownPrincipal(e.user());
    }

    /**
     * A refusal made by containment itself (a lockdown 503, a blocked address's 403): the response
     * to an incident, not a new attack, so the denial and credential detectors do not count it.
     */
    static boolean containmentRefusal(StoredEvent e) {
        return "lockdown".equals(e.reason()) || "address-blocked".equals(e.reason());
    }

    static boolean knownPrincipal(String user) {
        return user != null && !"anonymous".equals(user) && !user.startsWith("carapace:")
                && !"unknown-client".equals(user);
    }
}
