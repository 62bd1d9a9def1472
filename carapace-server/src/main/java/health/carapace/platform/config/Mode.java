package health.carapace.platform.config;

import java.util.Optional;
import org.springframework.core.env.Environment;

/** How the server was started: {@code ./carapace start} or {@code ./carapace start-dev}. */
public enum Mode {
    /** {@code start-dev}: embedded database, dev keystore, self-signed certificate. */
    DEV,
    /** {@code start}: everything from the environment, every protection checked. */
    PROD;

    /** The mode {@code carapace.mode} names, if it names one; the launcher always sets it. */
    static Optional<Mode> of(Environment environment) {
        return switch (environment.getProperty("carapace.mode", "")) {
            case "dev" -> Optional.of(DEV);
            case "prod" -> Optional.of(PROD);
            default -> Optional.empty();
        };
    }
}
