package health.carapace.signin.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import health.carapace.signin.AccessReview;
import java.time.Instant;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * The access review (the same as {@code admin access-report}): unique accounts, permissions granted
 * and unused in the last 90 days, roles without constraints; fails if a disabled account still
 * holds a live session or an account holds a role the policy does not define.
 */
@Component
class AccessReviewCheck implements ComplianceCheck {

    static final int DAYS = 90;

    private final AccessReview review;

    AccessReviewCheck(AccessReview review) {
        this.review = review;
    }

    @Override
    public String id() {
        return "signin.access-review";
    }

    @Override
    public String title() {
        return "Unique accounts, unused permissions and unconstrained roles reviewed";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.UNIQUE_USER_IDENTIFICATION, Rule.ACCESS_REVIEW, Rule.ACCESS_CONTROL);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        AccessReview.Report report = review.report(DAYS, now);
        List<String> withUnused = report.principals().stream().filter(p -> !p.disabled() && !p.unused().isEmpty())
                .map(p -> p.name() + " (" + p.unused().size() + " unused)").toList();
        List<String> undefined = report.principals().stream().filter(p -> !p.undefinedRoles().isEmpty())
                .map(AccessReview.Principal::name).toList();
        long users = report.principals().stream().filter(p -> p.kind().equals("user")).count();
        CheckResult.Evidence evidence = CheckResult.Evidence.of()
                .with("window", DAYS + " days")
                .with("user accounts (unique, case-insensitive names)", users)
                .with("service clients", report.principals().size() - users)
                .withList("principals with permissions unused in the window", withUnused, 20)
                .withList("roles without constraints", report.unconstrainedRoles(), 20)
                .withList("disabled users still holding a session", report.disabledWithLiveSessions(), 20)
                .withList("principals holding undefined roles", undefined, 20);
        if (!report.clean()) {
            return CheckResult.fail("disabled users still hold a live session", evidence);
        }
        return CheckResult.passIf(undefined.isEmpty(), "accounts hold roles the policy does not define", evidence);
    }
}
