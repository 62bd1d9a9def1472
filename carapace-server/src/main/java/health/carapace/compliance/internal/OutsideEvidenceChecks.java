package health.carapace.compliance.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import java.time.Instant;
import java.util.List;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Rules the running system cannot evidence today, stated as such in every report rather than left
 * out: an auditor must see the gap, not infer it from an absence.
 */
@Configuration(proxyBeanMethods = false)
class OutsideEvidenceChecks {

    /** A check that always answers "not applicable" with its reason. */
    record Declared(String id, String title, List<Rule> rules, String reason) implements ComplianceCheck {
        @Override
        public CheckResult evaluate(Instant now) {
            return CheckResult.notApplicable(reason, CheckResult.Evidence.of());
        }
    }

    @Bean
    ComplianceCheck penetrationTestCheck() {
        return new Declared("scan.penetration-test", "Penetration test within the last 12 months",
                List.of(Rule.NPRM_PENETRATION_TEST),
                "a penetration test is done by people outside the system: keep its report with this one");
    }
}
