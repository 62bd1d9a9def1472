package health.carapace.signin.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Automatic logoff: sessions end after at most 15 minutes without activity and access tokens live
 * at most 15 minutes, so an unattended session stops working within that time.
 */
@Component
class SessionPolicyCheck implements ComplianceCheck {

    static final Duration MAX_IDLE = Duration.ofMinutes(15);

    private final SignInSettings settings;
    private final Duration tokenTtl;

    SessionPolicyCheck(SignInSettings settings, @Value("${carapace.token.ttl}") Duration tokenTtl) {
        this.settings = settings;
        this.tokenTtl = tokenTtl;
    }

    @Override
    public String id() {
        return "signin.automatic-logoff";
    }

    @Override
    public String title() {
        return "Sessions end after inactivity; access tokens are short-lived";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.AUTOMATIC_LOGOFF, Rule.ACCESS_CONTROL);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        CheckResult.Evidence evidence = CheckResult.Evidence.of()
                .with("carapace.session.idle-timeout", settings.idleTimeout())
                .with("carapace.session.max-lifetime", settings.maxLifetime())
                .with("carapace.token.ttl", tokenTtl)
                .with("required at most", MAX_IDLE);
        return CheckResult.passIf(settings.idleTimeout().compareTo(MAX_IDLE) <= 0 && tokenTtl.compareTo(MAX_IDLE) <= 0,
                "the idle timeout or the token lifetime is longer than " + MAX_IDLE, evidence);
    }
}
