package health.carapace.incident.internal;

import health.carapace.access.Caller;
import health.carapace.access.CareRelationships;
import health.carapace.audit.AuditFeed.SealedEvent;
import health.carapace.incident.Severity;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@code vip-access} and {@code coworker-access}: a patient a privacy officer flagged as a VIP or
 * an employee is opened through break-glass, or by a principal without a care relationship to
 * them (CareTeam, Encounter or explicit assignment, as the access policy sees it). A role with
 * {@code view:all_patients} does not make the access less worth a look: it is flagged too.
 */
final class FlaggedPatientDetector implements Detector {

    static final String VIP = "vip-access";
    static final String COWORKER = "coworker-access";

    private final Supplier<PrivacyRegister.Snapshot> register;
    private final CareRelationships relationships;
    /** The caller a principal acts as (its practitioner id), for the care-relationship question. */
    private final Function<String, Caller> callers;

    FlaggedPatientDetector(Supplier<PrivacyRegister.Snapshot> register, CareRelationships relationships,
            Function<String, Caller> callers) {
        this.register = register;
        this.relationships = relationships;
        this.callers = callers;
    }

    @Override
    public String code() {
        return VIP;
    }

    @Override
    public void inspect(SealedEvent sealed, List<Detection> found) {
        var e = sealed.event();
        if (!AuditedAccess.patientAccess(e) && !(AuditedAccess.breakGlass(e) && e.patient() != null)) {
            return;
        }
        PrivacyRegister.Flags flags = register.get().flags().get(e.patient());
        if (flags == null) {
            return;
        }
        String why;
        if (e.breakGlass() || "break_glass".equals(e.action())) {
            why = "break-glass";
        } else if (!relationships.related(callers.apply(e.user()), e.patient())) {
            why = "no-care-relationship";
        } else {
            return;
        }
        if (flags.vip()) {
            found.add(Detection.of(VIP, Severity.HIGH, sealed, why));
        }
        if (flags.employee()) {
            found.add(Detection.of(COWORKER, Severity.HIGH, sealed, why));
        }
    }
}
