package health.carapace.access.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import health.carapace.access.Caller;
import health.carapace.access.Callers;
import health.carapace.platform.web.OperationOutcomes;
import health.carapace.platform.web.RequestFilter;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/**
 * Every authenticated caller (person, app or service client) gets its fair share of this node: a
 * token bucket of {@code carapace.rate-limit.requests-per-second}, refilled continuously, that
 * holds at most {@code carapace.rate-limit.burst} requests. A request beyond it is refused with
 * 429, {@code Retry-After} (whole seconds until a request is allowed again) and an
 * OperationOutcome, before any route runs; it is counted, not audited or logged one by one (a
 * flood must not become a flood of audit writes). Requests without a caller (sign-in pages, the
 * token endpoint, discovery, health) have throttles of their own (failed sign-ins, client
 * secrets) and are not counted here.
 *
 * <p>The limit is per node: behind a load balancer over N nodes a caller can reach N times it.
 */
final class CallerRateLimits extends RequestFilter implements MeterBinder {

    private final Bandwidth limit;
    private final Cache<String, Bucket> buckets;
    private volatile Counter refused;

    CallerRateLimits(long requestsPerSecond, long burst) {
        if (requestsPerSecond < 1 || burst < requestsPerSecond) {
            throw new IllegalArgumentException("carapace.rate-limit.requests-per-second must be at least 1, and "
                    + "carapace.rate-limit.burst at least as large (requests-per-second " + requestsPerSecond
                    + ", burst " + burst + ")");
        }
        this.limit = Bandwidth.builder().capacity(burst).refillGreedy(requestsPerSecond, Duration.ofSeconds(1)).build();
        // a bucket left alone this long is full again anyway: forgetting it loses nothing
        long refillNanos = TimeUnit.SECONDS.toNanos(burst) / requestsPerSecond;
        this.buckets = Caffeine.newBuilder().expireAfterAccess(Duration.ofNanos(refillNanos).plusMinutes(1))
                .maximumSize(1_000_000).build();
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Optional<Caller> caller = Callers.of(request);
        if (caller.isEmpty()) {
            chain.doFilter(request, response);
            return;
        }
        Bucket bucket = buckets.get(caller.get().principal(), principal -> Bucket.builder().addLimit(limit).build());
        ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
        if (probe.isConsumed()) {
            chain.doFilter(request, response);
            return;
        }
        Counter counter = refused;
        if (counter != null) {
            counter.increment();
        }
        long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(probe.getNanosToWaitForRefill() + 999_999_999L));
        response.setHeader("Retry-After", Long.toString(seconds));
        OperationOutcomes.write(response, 429, IssueType.THROTTLED,
                "Too many requests from this caller; retry after the time in Retry-After");
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        refused = Counter.builder("carapace.requests.throttled")
                .description("Requests refused with 429 because their caller exceeded its rate limit").register(registry);
    }
}
