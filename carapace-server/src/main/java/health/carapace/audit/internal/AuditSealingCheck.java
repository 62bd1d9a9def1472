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
 * Events are sealed into a signed tree head promptly (the oldest unsealed event is younger than
 * 60 seal intervals), and when Kafka is configured the relay is not more than 60 intervals'
 * worth of events behind. A sealer or relay that stopped shows here and in the metrics.
 */
@Component
class AuditSealingCheck implements ComplianceCheck {

    static final int TOLERATED_INTERVALS = 60;

    private final AuditHealth health;
    private final Duration sealInterval;
    private final int maxLeavesPerSeal;

    AuditSealingCheck(AuditHealth health, @Value("${carapace.audit.seal-interval}") Duration sealInterval,
            @Value("${carapace.audit.max-leaves-per-seal}") int maxLeavesPerSeal) {
        this.health = health;
        this.sealInterval = sealInterval;
        this.maxLeavesPerSeal = maxLeavesPerSeal;
    }

    @Override
    public String id() {
        return "audit.sealing";
    }

    @Override
    public String title() {
        return "Audit events sealed into signed tree heads and relayed without lag";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.AUDIT_CONTROLS, Rule.INTEGRITY, Rule.NPRM_AUDIT_LOGGING);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        AuditHealth.Snapshot snapshot = health.snapshot();
        Duration lag = snapshot.sealLag(now);
        Duration tolerated = sealInterval.multipliedBy(TOLERATED_INTERVALS);
        CheckResult.Evidence evidence = CheckResult.Evidence.of()
                .with("carapace.audit.seal-interval", sealInterval)
                .with("unsealed events", snapshot.unsealed())
                .with("oldest unsealed event age", lag.toSeconds() + " s")
                .with("tolerated", tolerated)
                .with("Kafka relay", snapshot.relayLag().map(l -> l + " leaves behind").orElse("not configured"));
        if (lag.compareTo(tolerated) > 0) {
            return CheckResult.fail("the sealer is behind: events older than " + tolerated + " are unsealed", evidence);
        }
        long toleratedLeaves = (long) maxLeavesPerSeal * TOLERATED_INTERVALS;
        return CheckResult.passIf(snapshot.relayLag().orElse(0L) <= toleratedLeaves,
                "the Kafka relay is more than " + toleratedLeaves + " leaves behind", evidence);
    }
}
