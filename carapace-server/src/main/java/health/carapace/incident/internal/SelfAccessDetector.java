package health.carapace.incident.internal;

import health.carapace.audit.AuditFeed.SealedEvent;
import health.carapace.incident.Severity;
import java.util.List;
import java.util.function.Supplier;

/** {@code self-access}: a principal opens the record of the Patient a privacy officer linked them to. */
final class SelfAccessDetector implements Detector {

    static final String CODE = "self-access";

    private final Supplier<PrivacyRegister.Snapshot> register;

    SelfAccessDetector(Supplier<PrivacyRegister.Snapshot> register) {
        this.register = register;
    }

    @Override
    public String code() {
        return CODE;
    }

    @Override
    public void inspect(SealedEvent sealed, List<Detection> found) {
        var e = sealed.event();
        if (AuditedAccess.patientAccess(e) && e.patient().equals(register.get().patientOfPrincipal().get(e.user()))) {
            found.add(Detection.of(CODE, Severity.MEDIUM, sealed, e.action()));
        }
    }
}
