package health.carapace.platform.web;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Liveness and readiness, for load balancers and orchestrators; each says UP or DOWN and nothing
 * else (which dependency is down goes to the log, once per change). Liveness: the process answers
 * (restart it if not). Readiness: every {@link DependencyProbe} is reachable (send it PHI requests
 * only then). {@code /health} is readiness, as before.
 */
@RestController
class HealthEndpoint {

    private static final Logger log = LoggerFactory.getLogger(HealthEndpoint.class);
    private static final Map<String, String> UP = Map.of("status", "UP");
    private static final Map<String, String> DOWN = Map.of("status", "DOWN");

    private final List<DependencyProbe> probes;
    private final Set<String> down = ConcurrentHashMap.newKeySet();

    HealthEndpoint(List<DependencyProbe> probes) {
        this.probes = List.copyOf(probes);
    }

    @GetMapping("/health/live")
    ResponseEntity<Map<String, String>> live() {
        return ResponseEntity.ok(UP);
    }

    @GetMapping({"/health", "/health/ready"})
    ResponseEntity<Map<String, String>> ready() {
        boolean ready = true;
        for (DependencyProbe probe : probes) {
            boolean reachable = probe.reachable();
            ready &= reachable;
            if (!reachable && down.add(probe.name())) {
                log.warn("Not ready: {} is unreachable", probe.name());
            } else if (reachable && down.remove(probe.name())) {
                log.info("{} is reachable again", probe.name());
            }
        }
        return ready ? ResponseEntity.ok(UP) : ResponseEntity.status(503).body(DOWN);
    }

    /** The PHI database (records, audit, sign-in): nothing is served without it. */
    @org.springframework.stereotype.Component
    static final class PhiDatabaseProbe implements DependencyProbe {

        private final JdbcClient jdbc;

        PhiDatabaseProbe(DataSource dataSource) {
            this.jdbc = JdbcClient.create(dataSource);
        }

        @Override
        public String name() {
            return "phi-database";
        }

        @Override
        public boolean reachable() {
            try {
                jdbc.sql("select 1").query(Integer.class).single();
                return true;
            } catch (RuntimeException e) {
                return false;
            }
        }
    }
}
