package health.carapace.signin.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import java.time.Instant;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Every enabled person has a second factor (TOTP) enrolled. Sign-in already demands TOTP (enrolled
 * at the first sign-in), so an account without it is one that has never signed in: still a finding,
 * since its enrolment link or password is one factor away from use. Service clients authenticate
 * with a secret (machine to machine) and are counted, not judged.
 */
@Component
class MfaCheck implements ComplianceCheck {

    private final JdbcClient jdbc;

    MfaCheck(DataSource dataSource) {
        this.jdbc = JdbcClient.create(dataSource);
    }

    @Override
    public String id() {
        return "signin.mfa";
    }

    @Override
    public String title() {
        return "Every enabled user has multi-factor authentication enrolled";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.PERSON_OR_ENTITY_AUTHENTICATION, Rule.NPRM_MFA);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        List<String> withoutMfa = jdbc.sql("""
                select user_name from iam.app_user where not disabled and totp_sealed is null
                order by lower(user_name)""").query(String.class).list();
        long enabled = jdbc.sql("select count(*) from iam.app_user where not disabled").query(Long.class).single();
        long clients = jdbc.sql("select count(*) from iam.service_client").query(Long.class).single();
        CheckResult.Evidence evidence = CheckResult.Evidence.of()
                .with("enabled users", enabled)
                .with("second factor", "TOTP (HMAC-SHA256, 6 digits, 30 s), required at every sign-in")
                .with("enabled users without MFA", withoutMfa.size())
                .withList("users without MFA", withoutMfa, 20)
                .with("service clients (client secret, Argon2id)", clients);
        return CheckResult.passIf(withoutMfa.isEmpty(), withoutMfa.size() + " enabled users without MFA", evidence);
    }
}
