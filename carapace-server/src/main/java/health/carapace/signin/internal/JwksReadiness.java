package health.carapace.signin.internal;

import health.carapace.platform.config.Mode;
import health.carapace.platform.config.ReadinessCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.springframework.core.env.Environment;

/**
 * JWKS URLs of backend clients are fetched from public addresses only ({@link JwksFetcher}); the
 * one exception, loopback, is for start-dev and the tests, and {@code start} refuses it: in
 * production a JWKS URL pointing at the server's own machine would reach its internal services.
 */
public final class JwksReadiness implements ReadinessCheck {

    static final String ALLOW_LOOPBACK = "carapace.smart.jwks-allow-loopback";
    static final String TRUST_STORE = "carapace.smart.jwks-trust-store";
    static final String TRUST_STORE_PASSWORD = "carapace.smart.jwks-trust-store-password";

    @Override
    public List<String> problems(Mode mode, Environment environment) {
        List<String> problems = new ArrayList<>();
        String loopback = environment.getProperty(ALLOW_LOOPBACK, "false");
        if (!loopback.equals("true") && !loopback.equals("false")) {
            problems.add(ALLOW_LOOPBACK + " must be true or false");
        } else if (mode == Mode.PROD && loopback.equals("true")) {
            problems.add(ALLOW_LOOPBACK + " is for start-dev only: a JWKS URL must never reach this machine in production");
        }
        String trustStore = environment.getProperty(TRUST_STORE, "");
        if (!trustStore.isBlank() && !Files.isRegularFile(Path.of(trustStore))) {
            problems.add(TRUST_STORE + " must name a PKCS#12 file");
        }
        return problems;
    }
}
