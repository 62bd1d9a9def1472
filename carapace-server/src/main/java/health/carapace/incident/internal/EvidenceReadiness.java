package health.carapace.incident.internal;

import health.carapace.platform.config.Mode;
import health.carapace.platform.config.ReadinessCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;

/**
 * {@code start} needs the evidence public key: evidence bundles (a heap dump holds PHI in clear)
 * are encrypted to it, and its private key is held offline. The key's content is checked when the
 * server loads it ({@link EvidenceKeys}); here, that it is named and exists.
 */
final class EvidenceReadiness implements ReadinessCheck {

    @Override
    public List<String> problems(Mode mode, Environment environment) {
        if (mode != Mode.PROD) {
            return List.of(); // start-dev generates a development pair
        }
        String path = environment.getProperty(EvidenceKeys.PUBLIC_KEY_PROPERTY);
        if (!StringUtils.hasText(path)) {
            return List.of(EvidenceKeys.PUBLIC_KEY_PROPERTY + " is required: evidence bundles are encrypted to this "
                    + "public key, whose private key the compliance officer holds offline (make a pair with "
                    + "./carapace incident evidence-keys)");
        }
        if (!Files.isRegularFile(Path.of(path))) {
            return List.of(EvidenceKeys.PUBLIC_KEY_PROPERTY + " names no file: the evidence public key must exist");
        }
        return List.of();
    }
}
