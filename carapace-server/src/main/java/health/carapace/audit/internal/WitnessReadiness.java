package health.carapace.audit.internal;

import health.carapace.platform.config.Mode;
import health.carapace.platform.config.ReadinessCheck;
import java.util.List;
import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;

/** {@code start} names a {@link WitnessDirectory}: tree heads kept where the database cannot rewrite them. */
final class WitnessReadiness implements ReadinessCheck {

    @Override
    public List<String> problems(Mode mode, Environment environment) {
        if (mode == Mode.PROD && !StringUtils.hasText(environment.getProperty("carapace.audit.witness-dir"))) {
            return List.of("carapace.audit.witness-dir is required: signed audit tree heads are written there, "
                    + "outside the database (put it on other storage)");
        }
        return List.of();
    }
}
