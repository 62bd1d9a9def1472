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
 * Password management and log-in monitoring: the password rules and hashing in force, failed
 * sign-ins throttled and locked out (and audited as login_failed / mfa_failed / lockout), and
 * how many failure counters are live now.
 */
@Component
class PasswordPolicyCheck implements ComplianceCheck {

    private final SignInSettings settings;
    private final JdbcClient jdbc;

    PasswordPolicyCheck(SignInSettings settings, DataSource dataSource) {
        this.settings = settings;
        this.jdbc = JdbcClient.create(dataSource);
    }

    @Override
    public String id() {
        return "signin.password-policy";
    }

    @Override
    public String title() {
        return "Password rules, hashing, and throttling of failed sign-ins";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.PASSWORD_MANAGEMENT, Rule.LOG_IN_MONITORING, Rule.PERSON_OR_ENTITY_AUTHENTICATION);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        long locked = jdbc.sql("select count(*) from iam.login_failure where locked_until > ?")
                .param(Timestamp.from(now)).query(Long.class).single();
        CheckResult.Evidence evidence = CheckResult.Evidence.of()
                .with("minimum password length", LoginPages.MIN_PASSWORD)
                .with("password may contain the user name", false)
                .with("hash", "Argon2id, m=19 MiB, t=2, p=1")
                .with("carapace.login.max-failures", settings.maxFailures())
                .with("carapace.login.lockout", settings.lockout())
                .with("carapace.login.backoff-base", settings.backoffBase())
                .with("failed sign-ins audited", "login_failed, mfa_failed, lockout events")
                .with("accounts or addresses locked out now", locked);
        boolean ok = LoginPages.MIN_PASSWORD >= 12 && settings.maxFailures() <= 10
                && settings.lockout().compareTo(Duration.ofMinutes(5)) >= 0;
        return CheckResult.passIf(ok, "lockout after more than 10 failures or for less than 5 minutes", evidence);
    }
}
