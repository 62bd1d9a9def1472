package health.carapace.platform.metrics;

import health.carapace.platform.web.FilterOrder;
import health.carapace.platform.web.RequestFilter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * Request rate, errors and latency for real-time monitoring: one Prometheus histogram,
 * {@code carapace_http_requests_seconds}, tagged only by {@code interaction} (a fixed vocabulary:
 * read, vread, search, history, create, update, patch, delete, transaction, operation, capabilities,
 * token, oauth2, sign-in, admin, health, other) and {@code outcome} (2xx, 3xx, 4xx, 5xx). The
 * interaction is worked out from the method and the shape of the path; no id, no resource type,
 * no query value, nothing the client chose ever becomes a tag, so a scanner cannot blow up the
 * series count or write into the metrics.
 */
@Component
@ConditionalOnWebApplication
@Order(FilterOrder.REQUEST_METRICS)
class RequestMetrics extends RequestFilter implements MeterBinder {

    static final String NAME = "carapace.http.requests";

    private volatile MeterRegistry registry;
    private final ConcurrentMap<String, Timer> timers = new ConcurrentHashMap<>();

    @Override
    public void bindTo(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        long started = System.nanoTime();
        boolean threw = true;
        try {
            chain.doFilter(request, response);
            threw = false;
        } finally {
            MeterRegistry meters = registry;
            if (meters != null) {
                String interaction = interaction(request.getMethod(), request.getRequestURI());
                String outcome = threw ? "5xx" : outcome(response.getStatus());
                timers.computeIfAbsent(interaction + ' ' + outcome, key -> Timer.builder(NAME)
                                .description("HTTP requests by interaction type and outcome class")
                                .tag("interaction", interaction)
                                .tag("outcome", outcome)
                                .publishPercentileHistogram()
                                .minimumExpectedValue(Duration.ofMillis(1))
                                .maximumExpectedValue(Duration.ofSeconds(30))
                                .register(meters))
                        .record(System.nanoTime() - started, java.util.concurrent.TimeUnit.NANOSECONDS);
            }
        }
    }

    static String outcome(int status) {
        if (status >= 500) {
            return "5xx";
        }
        if (status >= 400) {
            return "4xx";
        }
        return status >= 300 ? "3xx" : "2xx";
    }

    /** The FHIR interaction (or route group) of a request, from its method and path shape only. */
    static String interaction(String method, String uri) {
        if (uri == null) {
            return "other";
        }
        if (uri.equals("/health") || uri.startsWith("/health/")) {
            return "health";
        }
        if (uri.equals("/oauth2/token")) {
            return "token";
        }
        if (uri.startsWith("/oauth2/") || uri.startsWith("/.well-known/")) {
            return "oauth2";
        }
        if (uri.equals("/login") || uri.startsWith("/login/")) {
            return "sign-in";
        }
        if (uri.startsWith("/admin/")) {
            return "admin";
        }
        if (!uri.equals("/fhir") && !uri.startsWith("/fhir/")) {
            return "other";
        }
        String[] parts = uri.length() <= 6 ? new String[0] : uri.substring(6).split("/", -1);
        int n = parts.length;
        if (n == 0 || (n == 1 && parts[0].isEmpty())) {
            return method.equals("POST") ? "transaction" : "other";
        }
        if (parts[n - 1].startsWith("$") || parts[0].startsWith("$")) {
            return "operation";
        }
        if (n == 1 && parts[0].equals("metadata")) {
            return "capabilities";
        }
        if (n == 1 && parts[0].equals("_history")) {
            return "history";
        }
        switch (method) {
            case "GET", "HEAD" -> {
                if (n == 1 || (n == 2 && parts[1].equals("_history"))) {
                    return n == 1 ? "search" : "history";
                }
                if (n == 2) {
                    return "read";
                }
                if (n == 3 && parts[2].equals("_history")) {
                    return "history";
                }
                if (n == 4 && parts[2].equals("_history")) {
                    return "vread";
                }
                return "other";
            }
            case "POST" -> {
                if (n == 1) {
                    return "create";
                }
                return n == 2 && parts[1].equals("_search") ? "search" : "other";
            }
            case "PUT" -> {
                return n == 2 ? "update" : "other";
            }
            case "PATCH" -> {
                return n == 2 ? "patch" : "other";
            }
            case "DELETE" -> {
                return n == 2 ? "delete" : "other";
            }
            default -> {
                return "other";
            }
        }
    }
}
