package health.carapace.platform.config;

import java.util.List;
import java.util.Optional;
import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;

/**
 * {@code start} reaches the PHI database ({@code carapace.db}) over TLS with certificate checks;
 * in every mode a URL naming several hosts uses only their primary ({@link DatabaseFailover}).
 */
public final class DatabaseReadiness implements ReadinessCheck {

    @Override
    public List<String> problems(Mode mode, Environment environment) {
        List<String> problems = new java.util.ArrayList<>();
        DatabaseFailover.problem("carapace.db.url", environment.getProperty("carapace.db.url")).ifPresent(problems::add);
        if (mode == Mode.PROD) {
            verifiedTlsProblem(environment, "carapace.db.url").ifPresent(problems::add);
        }
        return problems;
    }

    /**
     * What is wrong with the JDBC URL set as {@code key} for production, if anything: it must name
     * an external PostgreSQL reached over TLS with certificate verification. For every database
     * the server reaches (the keyring's too).
     */
    public static Optional<String> verifiedTlsProblem(Environment environment, String key) {
        String url = environment.getProperty(key);
        if (!StringUtils.hasText(url)) {
            return Optional.of(key + " is required: a jdbc:postgresql:// URL of an external PostgreSQL");
        } else if (!url.startsWith("jdbc:postgresql://")) {
            return Optional.of(key + " must be a jdbc:postgresql:// URL");
        } else if (!url.contains("sslmode=verify-full") && !url.contains("sslmode=verify-ca")) {
            return Optional.of(key + " must use TLS with certificate verification (sslmode=verify-full)");
        }
        return Optional.empty();
    }
}
