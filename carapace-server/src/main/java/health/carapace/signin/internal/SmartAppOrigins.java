package health.carapace.signin.internal;

import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.CorsConfigurationSource;

/**
 * Cross-origin requests from browser-based SMART apps (issue #18, ADR 0027): an app that runs in
 * a browser page (SMART's {@code fhirclient}) reads the discovery document, exchanges its code at
 * the token endpoint and calls the FHIR API from its own origin. Only the origins of the redirect
 * URIs of enabled SMART apps (registered by an administrator) are allowed, only on those routes,
 * and never with cookies: the API takes bearer tokens only, so an allowed origin gains nothing a
 * token does not already give. Every other origin gets no CORS header and the browser keeps its
 * page away from the answer. The sign-in and consent pages are never cross-origin.
 */
final class SmartAppOrigins implements CorsConfigurationSource {

    /** How long a read of the registered origins serves; a disabled app's origin is refused after it. */
    static final Duration REFRESH = Duration.ofSeconds(10);

    /**
     * How often an origin not in the last read makes the origins be read again: a newly registered
     * app counts within this time on every node, and a stream of unknown origins costs at most one
     * query per this time.
     */
    static final Duration UNKNOWN_ORIGIN_REREAD = Duration.ofSeconds(1);

    private static final List<String> HEADERS = List.of("Authorization", "Content-Type", "Accept", "If-Match",
            "If-None-Match", "Prefer");
    private static final List<String> EXPOSED = List.of("Location", "Content-Location", "ETag", "Last-Modified");

    private final JdbcClient jdbc;
    private final Clock clock;
    private volatile Set<String> origins = Set.of();
    private volatile Instant readAt = Instant.MIN;

    SmartAppOrigins(DataSource dataSource, Clock clock) {
        this.jdbc = JdbcClient.create(dataSource);
        this.clock = clock;
    }

    /** Whether a request path is one a browser app calls cross-origin. */
    static boolean crossOriginRoute(String path) {
        return path.equals("/oauth2/token") || path.equals("/fhir") || path.startsWith("/fhir/")
                || SmartDiscovery.PATHS.contains(path);
    }

    @Override
    public CorsConfiguration getCorsConfiguration(HttpServletRequest request) {
        String origin = request.getHeader("Origin");
        if (origin == null || !crossOriginRoute(request.getRequestURI()) || !registered(origin)) {
            return null;
        }
        CorsConfiguration allowed = new CorsConfiguration();
        allowed.addAllowedOrigin(origin);
        allowed.setAllowedMethods(request.getRequestURI().equals("/oauth2/token") ? List.of("POST")
                : List.of("GET", "POST", "PUT", "PATCH", "DELETE"));
        allowed.setAllowedHeaders(HEADERS);
        allowed.setExposedHeaders(EXPOSED);
        allowed.setAllowCredentials(false);
        allowed.setMaxAge(600L);
        return allowed;
    }

    private boolean registered(String origin) {
        Set<String> known = origins(REFRESH);
        return known.contains(origin) || origins(UNKNOWN_ORIGIN_REREAD).contains(origin);
    }

    /** The registered origins, read again unless the last read is younger than {@code maxAge}. */
    private Set<String> origins(Duration maxAge) {
        Instant now = clock.instant();
        if (readAt.plus(maxAge).isAfter(now)) {
            return origins;
        }
        synchronized (this) {
            return readAt.plus(maxAge).isAfter(now) ? origins : read(now);
        }
    }

    private Set<String> read(Instant now) {
        Set<String> read = new HashSet<>();
        for (String uri : jdbc.sql("select unnest(redirect_uris) from iam.login_app"
                + " where not disabled and cardinality(scopes) > 0").query(String.class).list()) {
            origin(uri).ifPresent(read::add);
        }
        origins = Set.copyOf(read);
        readAt = now;
        return origins;
    }

    /** {@code scheme://host[:port]} of a registered redirect URI, as a browser writes its Origin header. */
    static java.util.Optional<String> origin(String uri) {
        try {
            URI parsed = URI.create(uri);
            if (parsed.getScheme() == null || parsed.getHost() == null) {
                return java.util.Optional.empty();
            }
            String scheme = parsed.getScheme().toLowerCase(Locale.ROOT);
            int port = parsed.getPort();
            boolean defaultPort = port == -1 || (scheme.equals("https") && port == 443) || (scheme.equals("http") && port == 80);
            return java.util.Optional.of(scheme + "://" + parsed.getHost().toLowerCase(Locale.ROOT)
                    + (defaultPort ? "" : ":" + port));
        } catch (IllegalArgumentException malformed) {
            return java.util.Optional.empty();
        }
    }
}
