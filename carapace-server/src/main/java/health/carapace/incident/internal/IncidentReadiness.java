package health.carapace.incident.internal;

import health.carapace.platform.config.Mode;
import health.carapace.platform.config.ReadinessCheck;
import java.util.List;
import org.springframework.core.env.Environment;

/**
 * Every detector threshold is well-formed and in range, and every alert channel encrypted (plain SMTP,
 * plain-HTTP webhooks refused), in every mode: a bad one would blind a detector or leak an alert.
 */
final class IncidentReadiness implements ReadinessCheck {

    @Override
    public List<String> problems(Mode mode, Environment environment) {
        java.util.List<String> problems = new java.util.ArrayList<>(IncidentSettings.parse(environment).problems());
        problems.addAll(AlertSettings.problems(environment));
        return problems;
    }
}
