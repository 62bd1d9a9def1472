package health.carapace.platform.metrics;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /admin/metrics}: the registry in the Prometheus text format (version 0.0.4), for a
 * scraper holding a role with {@code view:metrics} (enforced by the security configuration, like
 * every admin route). Meters carry no patient data: see ADR 0010, "Metrics exposure".
 */
@RestController
@ConditionalOnWebApplication
class MetricsEndpoint {

    private static final Logger log = LoggerFactory.getLogger(MetricsEndpoint.class);
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry;
    private final List<RefreshedOnScrape> refreshed;

    MetricsEndpoint(PrometheusMeterRegistry registry, List<RefreshedOnScrape> refreshed) {
        this.registry = registry;
        this.refreshed = refreshed;
    }

    @GetMapping("/admin/metrics")
    ResponseEntity<String> scrape() {
        for (RefreshedOnScrape meters : refreshed) {
            try {
                meters.refreshBeforeScrape();
            } catch (RuntimeException e) {
                // The previous snapshot is served; a scrape must not fail because one source did.
                log.warn("A metrics source could not be refreshed; its previous values are served", e);
            }
        }
        return ResponseEntity.ok().header("Content-Type", PROMETHEUS_TEXT).body(registry.scrape());
    }
}
