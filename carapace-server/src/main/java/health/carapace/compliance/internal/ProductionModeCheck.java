package health.carapace.compliance.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import health.carapace.platform.config.ProductionReadiness;
import java.time.Instant;
import java.util.List;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * The server runs in production mode and every module's readiness check is satisfied (the same
 * checks that make {@code ./carapace start} refuse to start). A start-dev server fails here: its
 * evidence is not evidence of a production system.
 */
@Component
class ProductionModeCheck implements ComplianceCheck {

    private final Environment environment;

    ProductionModeCheck(Environment environment) {
        this.environment = environment;
    }

    @Override
    public String id() {
        return "platform.production-mode";
    }

    @Override
    public String title() {
        return "Production mode with every readiness check satisfied";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.EVALUATION, Rule.ACCESS_CONTROL);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        String mode = environment.getProperty("carapace.mode", "?");
        // Sentences name settings, never their values (ReadinessCheck's contract).
        List<String> problems = ProductionReadiness.problems(environment);
        CheckResult.Evidence evidence = CheckResult.Evidence.of()
                .with("carapace.mode", mode)
                .with("readiness checks", ProductionReadiness.checks().size())
                .withList("readiness problems", problems, 20);
        if (!mode.equals("prod")) {
            return CheckResult.fail("the server runs in development mode (start-dev)", evidence);
        }
        return CheckResult.passIf(problems.isEmpty(), "readiness problems in production mode", evidence);
    }
}
