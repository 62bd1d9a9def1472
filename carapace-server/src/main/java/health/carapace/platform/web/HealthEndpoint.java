package health.carapace.platform.web;

import jakarta.annotation.PreDestroy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Liveness and readiness, for load balancers and orchestrators; each says UP or DOWN and nothing
 * else (which dependency is down goes to the log, once per change). Liveness: the process answers
 * (restart it if not). Readiness: every {@link DependencyProbe} is reachable (send it PHI requests
 * only then). {@code /health} is readiness, as before.
 *
 * <p>Readiness answers within {@code carapace.health.probe-timeout}: a probe still waiting then
 * (for a pool connection while its database is away: up to {@code carapace.db.connection-wait})
 * counts as unreachable, and keeps running; the next readiness request joins it instead of
 * starting another, so probes never pile up.
 */
@RestController
class HealthEndpoint {

    private static final Logger log = LoggerFactory.getLogger(HealthEndpoint.class);
    private static final Map<String, String> UP = Map.of("status", "UP");
    private static final Map<String, String> DOWN = Map.of("status", "DOWN");

    private final List<DependencyProbe> probes;
    private final Duration timeout;
    private final Set<String> down = ConcurrentHashMap.newKeySet();
    private final Map<String, CompletableFuture<Boolean>> running = new ConcurrentHashMap<>();
    private final ExecutorService probing = Executors.newCachedThreadPool(task -> {
        Thread thread = new Thread(task, "health-probe");
        thread.setDaemon(true);
        return thread;
    });

    HealthEndpoint(List<DependencyProbe> probes, @Value("${carapace.health.probe-timeout}") Duration timeout) {
        this.probes = List.copyOf(probes);
        this.timeout = timeout;
    }

    @GetMapping("/health/live")
    ResponseEntity<Map<String, String>> live() {
        return ResponseEntity.ok(UP);
    }

    @GetMapping({"/health", "/health/ready"})
    ResponseEntity<Map<String, String>> ready() {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<CompletableFuture<Boolean>> checks = new ArrayList<>(probes.size());
        probes.forEach(probe -> checks.add(check(probe)));
        boolean ready = true;
        for (int i = 0; i < probes.size(); i++) {
            DependencyProbe probe = probes.get(i);
            boolean reachable = awaitUntil(probe, checks.get(i), deadline);
            ready &= reachable;
            if (!reachable && down.add(probe.name())) {
                log.warn("Not ready: {} is unreachable", probe.name());
            } else if (reachable && down.remove(probe.name())) {
                log.info("{} is reachable again", probe.name());
            }
        }
        return ready ? ResponseEntity.ok(UP) : ResponseEntity.status(503).body(DOWN);
    }

    /** The probe's check still running, or a new one (a finished result is never reused). */
    private CompletableFuture<Boolean> check(DependencyProbe probe) {
        running.computeIfPresent(probe.name(), (name, check) -> check.isDone() ? null : check);
        return running.computeIfAbsent(probe.name(), name -> CompletableFuture.supplyAsync(probe::reachable, probing));
    }

    private boolean awaitUntil(DependencyProbe probe, CompletableFuture<Boolean> check, long deadline) {
        try {
            return check.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            if (check.isDone()) {
                running.remove(probe.name(), check);
            }
        }
    }

    @PreDestroy
    void stopProbing() {
        probing.shutdownNow();
    }

    /** The PHI database (records, audit, sign-in): nothing is served without it. */
    @Configuration(proxyBeanMethods = false)
    static class PhiDatabaseProbe {

        @Bean
        DependencyProbe phiDatabaseProbe(DataSource dataSource) {
            return DependencyProbe.database("phi-database", dataSource);
        }
    }
}
