package health.carapace.incident.internal;

import health.carapace.platform.config.Mode;
import health.carapace.platform.config.ReadinessCheck;
import java.util.List;
import org.springframework.core.env.Environment;

/** Every detector threshold is well-formed and in range, in every mode (a bad one would blind a detector). */
final class IncidentReadiness implements ReadinessCheck {

    @Override
    public List<String> problems(Mode mode, Environment environment) {
        return IncidentSettings.parse(environment).problems();
    }
}
