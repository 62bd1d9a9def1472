package health.carapace.platform.web;

import java.net.URI;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * The address clients use to reach this server ({@code carapace.public-base-url}, e.g.
 * {@code https://fhir.example.org}): every link the server builds (FHIR {@code Bundle.link},
 * {@code fullUrl}, {@code Location}, the OAuth issuer) comes from here, never from the request's
 * {@code Host} or {@code X-Forwarded-Host}, and only requests naming its host (or one of
 * {@code carapace.allowed-hosts}) are served ({@link HostAllowList}).
 *
 * <p>Port 0 stands for the port the server actually listens on: start-dev and the tests run on
 * {@code https://localhost:${server.port}}, and tests ask for a random port ({@code server.port=0}).
 * {@code start} refuses port 0 ({@link HttpsReadiness}).
 */
@Component
public class PublicBaseUrl {

    private final URI configured;
    private final Set<String> allowedHosts;
    private volatile String value;

    public PublicBaseUrl(@Value("${carapace.public-base-url}") String url,
            @Value("${carapace.allowed-hosts:}") String extraHosts) {
        URI uri = URI.create(url.strip());
        if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("carapace.public-base-url must be an absolute https URL");
        }
        this.configured = uri;
        this.allowedHosts = Stream.concat(Stream.of(uri.getHost()), Arrays.stream(extraHosts.split(",")))
                .map(PublicBaseUrl::normalisedHost).filter(h -> !h.isEmpty()).collect(Collectors.toUnmodifiableSet());
        this.value = uri.getPort() == 0 ? null : withoutTrailingSlash(uri.toString());
    }

    /** The base URL without a trailing slash, e.g. {@code https://fhir.example.org}. */
    public String value() {
        String current = value;
        if (current == null) {
            throw new IllegalStateException("the server's port is not known yet");
        }
        return current;
    }

    @EventListener
    void portKnown(WebServerInitializedEvent event) {
        if (configured.getPort() == 0) {
            value = withoutTrailingSlash(configured.getScheme() + "://" + configured.getHost() + ":"
                    + event.getWebServer().getPort() + (configured.getRawPath() == null ? "" : configured.getRawPath()));
        }
    }

    /**
     * Whether a {@code Host} header names this server: its host name (any port: the port a client
     * typed says nothing the links depend on, and a port mapping 443 to 8443 stays possible),
     * compared case-insensitively, without a trailing dot.
     */
    public boolean allowsHost(String hostHeader) {
        if (hostHeader == null) {
            return false;
        }
        String host = hostHeader.strip();
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            if (end < 0) {
                return false;
            }
            host = host.substring(0, end + 1);
        } else {
            int colon = host.indexOf(':');
            if (colon >= 0) {
                String port = host.substring(colon + 1);
                // a loop, not a stream: this runs on every request (issue 13)
                for (int i = 0; i < port.length(); i++) {
                    if (!Character.isDigit(port.charAt(i))) {
                        return false;
                    }
                }
                host = host.substring(0, colon);
            }
        }
        String name = normalisedHost(host);
        return !name.isEmpty() && allowedHosts.contains(name);
    }

    private static String normalisedHost(String host) {
        String name = host.strip().toLowerCase(Locale.ROOT);
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    private static String withoutTrailingSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
