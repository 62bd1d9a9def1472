package health.carapace.signin.internal;

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
 * No account is still usable more than an hour after its access end date: enabled, or holding an
 * open session. {@link AccessEndEnforcement} disables such accounts every five minutes; this check
 * is the evidence that it did.
 */
@Component
class AccessEndCheck implements ComplianceCheck {

    static final Duration GRACE = Duration.ofHours(1);

    private final JdbcClient jdbc;

    AccessEndCheck(DataSource dataSource) {
        this.jdbc = JdbcClient.create(dataSource);
    }

    @Override
    public String id() {
        return "signin.access-end";
    }

    @Override
    public String title() {
        return "Access ended within one hour of the end date set for each person";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.TERMINATION_PROCEDURES, Rule.NPRM_ACCESS_TERMINATION);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        Timestamp deadline = Timestamp.from(now.minus(GRACE));
        List<String> stillActive = jdbc.sql("""
                select u.user_name from iam.app_user u
                where u.access_ends_at <= ?
                  and (not u.disabled or exists (select 1 from iam.session s where s.user_id = u.id
                        and s.revoked_at is null and s.absolute_expires_at > ? and s.idle_expires_at > ?))
                order by lower(u.user_name)""")
                .params(deadline, Timestamp.from(now), Timestamp.from(now))
                .query(String.class).list();
        long withEnd = jdbc.sql("select count(*) from iam.app_user where access_ends_at is not null")
                .query(Long.class).single();
        long ended = jdbc.sql("select count(*) from iam.app_user where access_ends_at <= ? and disabled")
                .param(Timestamp.from(now)).query(Long.class).single();
        CheckResult.Evidence evidence = CheckResult.Evidence.of()
                .with("users with an access end date", withEnd)
                .with("users past it and disabled", ended)
                .with("grace", GRACE)
                .with("enforcement", "accounts past their end date disabled every " + AccessEndEnforcement.CADENCE)
                .withList("users still active more than an hour past their end date", stillActive, 20);
        return CheckResult.passIf(stillActive.isEmpty(),
                stillActive.size() + " users still active more than an hour past their access end", evidence);
    }
}
