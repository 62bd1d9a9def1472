package health.carapace.signin.internal;

import health.carapace.access.RoleCatalog;
import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * The access review (as {@code admin access-report}): permissions unused in the last 90 days and
 * principals holding undefined roles from the stored review (recomputed when older than 36 hours;
 * the server refreshes it daily), and, live, disabled users still holding a session and roles
 * without constraints. Fails for a disabled user with a live session or an undefined role.
 */
@Component
class AccessReviewCheck implements ComplianceCheck {

    private final StoredAccessReviews reviews;
    private final RoleCatalog roles;
    private final JdbcClient jdbc;

    AccessReviewCheck(StoredAccessReviews reviews, RoleCatalog roles, DataSource dataSource) {
        this.reviews = reviews;
        this.roles = roles;
        this.jdbc = JdbcClient.create(dataSource);
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
        StoredAccessReviews.Stored review = reviews.fresh(now);
        List<String> liveSessions = jdbc.sql("""
                select distinct u.user_name from iam.app_user u join iam.session s on s.user_id = u.id
                where u.disabled and s.revoked_at is null and s.idle_expires_at > ? and s.absolute_expires_at > ?
                order by u.user_name""")
                .params(Timestamp.from(now), Timestamp.from(now))
                .query(String.class).list();
        long users = jdbc.sql("select count(*) from iam.app_user").query(Long.class).single();
        List<String> unconstrained = roles.roles().stream().filter(RoleCatalog.RoleSummary::unconstrained)
                .map(RoleCatalog.RoleSummary::name).sorted().toList();
        CheckResult.Evidence evidence = CheckResult.Evidence.of()
                .with("user accounts (unique, case-insensitive names)", users)
                .with("access review computed at", review.generatedAt())
                .with("window", review.days() + " days")
                .with("principals reviewed", review.principals())
                .withList("principals with permissions unused in the window", review.withUnused(), 20)
                .withList("principals holding undefined roles", review.undefinedRoles(), 20)
                .withList("roles without constraints", unconstrained, 20)
                .withList("disabled users still holding a session", liveSessions, 20);
        if (!liveSessions.isEmpty()) {
            return CheckResult.fail("disabled users still hold a live session", evidence);
        }
        return CheckResult.passIf(review.undefinedRoles().isEmpty(), "accounts hold roles the policy does not define",
                evidence);
    }
}
