package health.carapace.access.internal;

import health.carapace.platform.config.Mode;
import health.carapace.platform.config.ReadinessCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;

/**
 * {@code start} has no implicit roles: it needs an existing {@link PolicyDirectory} (whose
 * documents must then load, or the access module refuses to start).
 */
final class PolicyDirectoryReadiness implements ReadinessCheck {

    @Override
    public List<String> problems(Mode mode, Environment environment) {
        if (mode != Mode.PROD) {
            return List.of();
        }
        String policyDir = environment.getProperty("carapace.access.policy-dir");
        if (!StringUtils.hasText(policyDir)) {
            return List.of("carapace.access.policy-dir is required: the directory of role documents "
                    + "(docs/ACCESS.md); there are no implicit roles in start");
        }
        if (!Files.isDirectory(Path.of(policyDir))) {
            return List.of("carapace.access.policy-dir does not exist or is not a directory");
        }
        return List.of();
    }
}
