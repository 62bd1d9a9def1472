package health.carapace.incident.internal;

import health.carapace.audit.AuditFeed.SealedEvent;
import health.carapace.incident.Severity;
import health.carapace.records.Compartment;
import health.carapace.records.FamilyNameIndex;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code same-family-name}: a principal opens a patient whose family name carries the same
 * blind-index token as the principal's own (set by a privacy officer, stored as the token only).
 * Names are never decrypted here: the patients' tokens are the ones search already stores, asked
 * for once per batch. The prefix index is coarse by design (three letters, truncated), so this
 * detector is low severity: a reason to look, not a finding (docs/INCIDENTS.md).
 */
final class SameFamilyNameDetector implements Detector {

    static final String CODE = "same-family-name";

    private final Supplier<PrivacyRegister.Snapshot> register;
    private final FamilyNameIndex index;
    /** Accesses of this batch by principals who have a family-name token, judged at the end of the batch. */
    private final List<SealedEvent> candidates = new ArrayList<>();

    SameFamilyNameDetector(Supplier<PrivacyRegister.Snapshot> register, FamilyNameIndex index) {
        this.register = register;
        this.index = index;
    }

    @Override
    public String code() {
        return CODE;
    }

    @Override
    public void inspect(SealedEvent sealed, List<Detection> found) {
        var e = sealed.event();
        if (AuditedAccess.patientAccess(e) && register.get().familyNameOfPrincipal().containsKey(e.user())
                && e.patient().startsWith("Patient/")) {
            candidates.add(sealed);
        }
    }

    @Override
    public void endOfBatch(List<Detection> found) {
        if (candidates.isEmpty()) {
            return;
        }
        try {
            List<Compartment> patients = new ArrayList<>();
            for (SealedEvent sealed : candidates) {
                try {
                    patients.add(Compartment.parse(sealed.event().patient()));
                } catch (IllegalArgumentException notAPatientId) {
                    // a reference that is not Patient/<uuid> has no family-name token
                }
            }
            Map<Compartment, Set<FamilyNameIndex.Token>> tokens = index.tokensOf(patients);
            Map<String, FamilyNameIndex.Token> families = register.get().familyNameOfPrincipal();
            java.util.Set<String> reported = new java.util.HashSet<>();
            for (SealedEvent sealed : candidates) {
                var e = sealed.event();
                Set<FamilyNameIndex.Token> patientTokens;
                try {
                    patientTokens = tokens.getOrDefault(Compartment.parse(e.patient()), Set.of());
                } catch (IllegalArgumentException notAPatientId) {
                    continue;
                }
                // one detection per principal and patient per batch is enough
                if (patientTokens.contains(families.get(e.user())) && reported.add(e.user() + " " + e.patient())) {
                    found.add(Detection.of(CODE, Severity.LOW, sealed, e.action()));
                }
            }
        } finally {
            candidates.clear();
        }
    }
}
