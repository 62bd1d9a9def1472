package health.carapace.crypto.internal;

import health.carapace.platform.config.Mode;
import health.carapace.platform.config.ReadinessCheck;
import java.util.ArrayList;
import java.util.List;
import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;

/** {@code start} holds the KEK in an HSM ({@code carapace.kek.provider=pkcs11}), never the dev keystore. */
final class KekReadiness implements ReadinessCheck {

    @Override
    public List<String> problems(Mode mode, Environment environment) {
        if (mode != Mode.PROD) {
            return List.of();
        }
        List<String> problems = new ArrayList<>();
        String kek = environment.getProperty("carapace.kek.provider", "");
        if (kek.equals("dev-keystore")) {
            problems.add("the dev keystore KEK is for start-dev only: set carapace.kek.provider=pkcs11");
            return problems;
        }
        if (!kek.equals("pkcs11")) {
            problems.add("carapace.kek.provider must be pkcs11 (CARAPACE_KEK_PROVIDER)");
        }
        for (String key : List.of("carapace.kek.pkcs11.library", "carapace.kek.pkcs11.pin",
                "carapace.kek.pkcs11.key-label")) {
            if (!StringUtils.hasText(environment.getProperty(key))) {
                problems.add(key + " is required for the pkcs11 KEK");
            }
        }
        return problems;
    }
}
