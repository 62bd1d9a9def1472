package health.carapace.platform.web;

import health.carapace.platform.config.Mode;
import health.carapace.platform.config.ReadinessCheck;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;

/**
 * {@code start} serves HTTPS only, with a configured certificate, at the address clients use
 * ({@link PublicBaseUrl}).
 */
public final class HttpsReadiness implements ReadinessCheck {

    @Override
    public List<String> problems(Mode mode, Environment environment) {
        if (mode != Mode.PROD) {
            return List.of();
        }
        List<String> problems = new ArrayList<>();
        if (!environment.containsProperty("server.ssl.key-store") && !environment.containsProperty("server.ssl.bundle")
                && !environment.containsProperty("server.ssl.certificate")) {
            problems.add("a TLS certificate is required: set server.ssl.key-store (SERVER_SSL_KEY_STORE) "
                    + "or server.ssl.bundle");
        }
        if (!environment.getProperty("server.ssl.enabled", Boolean.class, true)) {
            problems.add("server.ssl.enabled must not be false: Carapace serves HTTPS only");
        }
        publicBaseUrlProblem(environment.getProperty("carapace.public-base-url")).ifPresent(problems::add);
        return problems;
    }

    /** Links and the OAuth issuer are built from this URL, never from the request's Host. */
    static Optional<String> publicBaseUrlProblem(String url) {
        String required = "carapace.public-base-url is required: the https://host[:port] address clients use "
                + "(links and the OAuth issuer are built from it, and requests for other host names are refused)";
        if (!StringUtils.hasText(url)) {
            return Optional.of(required);
        }
        try {
            URI uri = new URI(url.strip());
            boolean noPath = uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/");
            if ("https".equalsIgnoreCase(uri.getScheme()) && uri.getHost() != null && uri.getPort() != 0
                    && noPath && uri.getRawQuery() == null && uri.getRawFragment() == null && uri.getRawUserInfo() == null) {
                return Optional.empty();
            }
        } catch (URISyntaxException invalid) {
            // refused below
        }
        return Optional.of("carapace.public-base-url must be https://host[:port] with no path, "
                + "query or port 0");
    }
}
