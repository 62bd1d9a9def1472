package health.carapace.audit.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * The last full verification of the audit trail (Merkle tree recomputed, every signed and
 * witnessed tree head checked) passed and is recent: within two verification intervals. Reads the
 * recorded result; it does not verify (the report must stay fast with a year of events).
 */
@Component
class AuditVerificationCheck implements ComplianceCheck {

    private final AuditHealth health;
    private final Duration interval;

    AuditVerificationCheck(AuditHealth health, @Value("${carapace.audit.verify-interval}") Duration interval) {
        this.health = health;
        this.interval = interval;
    }

    @Override
    public String id() {
        return "audit.verification";
    }

    @Override
    public String title() {
        return "The audit trail's last full verification passed and is recent";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.AUDIT_CONTROLS, Rule.INTEGRITY, Rule.MECHANISM_TO_AUTHENTICATE_EPHI,
                Rule.NPRM_AUDIT_LOGGING);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        var last = health.snapshot().lastVerification();
        Duration maxAge = interval.multipliedBy(2);
        CheckResult.Evidence evidence = CheckResult.Evidence.of()
                .with("carapace.audit.verify-interval", interval)
                .with("maximum age", maxAge);
        if (last.isEmpty()) {
            return CheckResult.fail("the audit trail has never been verified (./carapace audit verify)", evidence);
        }
        var verification = last.get();
        Duration age = Duration.between(verification.finishedAt(), now);
        evidence.with("last verification", verification.finishedAt())
                .with("age", age.toMinutes() + " min")
                .with("result", verification.ok() ? "intact" : "FAILED")
                .with("events checked", verification.eventsChecked());
        if (!verification.ok()) {
            // Names a leaf index or tree size, never an event body (DatabaseAuditVerifier).
            evidence.with("first problem", verification.firstProblem());
            return CheckResult.fail("the last verification of the audit trail failed", evidence);
        }
        return CheckResult.passIf(age.compareTo(maxAge) <= 0, "the last verification is older than " + maxAge,
                evidence);
    }
}
