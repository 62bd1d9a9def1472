package health.carapace.access.internal;

import health.carapace.access.BreakGlass;
import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * The emergency access procedure is in force: {@code $break-glass} needs a reason, is time-boxed
 * (at most 4 hours here, although the setting allows 24), is flagged in the audit trail, and its
 * uses of the last 30 days are counted for review ({@code admin break-glass-review}). Patients
 * are not named: counts only.
 */
@Component
class BreakGlassProcedureCheck implements ComplianceCheck {

    static final Duration RECOMMENDED_MAX = Duration.ofHours(4);

    private final BreakGlass breakGlass;
    private final JdbcClient jdbc;

    BreakGlassProcedureCheck(BreakGlass breakGlass, DataSource dataSource) {
        this.breakGlass = breakGlass;
        this.jdbc = JdbcClient.create(dataSource);
    }

    @Override
    public String id() {
        return "access.emergency-access";
    }

    @Override
    public String title() {
        return "Emergency access (break-glass) is time-boxed, justified and reviewed";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.EMERGENCY_ACCESS_PROCEDURE, Rule.ACCESS_CONTROL);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        Timestamp monthAgo = Timestamp.from(now.minus(Duration.ofDays(30)));
        long recent = jdbc.sql("select count(*) from iam.break_glass where opened_at >= ?").param(monthAgo)
                .query(Long.class).single();
        long open = jdbc.sql("select count(*) from iam.break_glass where expires_at > ? and closed_at is null")
                .param(Timestamp.from(now)).query(Long.class).single();
        long principals = jdbc.sql("select count(distinct principal) from iam.break_glass where opened_at >= ?")
                .param(monthAgo).query(Long.class).single();
        CheckResult.Evidence evidence = CheckResult.Evidence.of()
                .with("carapace.access.break-glass-duration", breakGlass.duration())
                .with("reason required", "yes, stored encrypted under the patient's key")
                .with("audit flag", "break_glass on every event of the grant")
                .with("grants opened in the last 30 days", recent)
                .with("by distinct principals", principals)
                .with("grants open now", open)
                .with("review", "./carapace admin break-glass-review");
        return CheckResult.passIf(breakGlass.duration().compareTo(RECOMMENDED_MAX) <= 0,
                "break-glass grants last longer than " + RECOMMENDED_MAX, evidence);
    }
}
