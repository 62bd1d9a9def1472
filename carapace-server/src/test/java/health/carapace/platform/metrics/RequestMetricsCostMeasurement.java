package health.carapace.platform.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.servlet.FilterChain;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

/**
 * What the request metrics cost per request: the filter around a chain that does nothing, against
 * the chain alone, on the real Prometheus registry (histogram buckets included). Compared in
 * docs/BENCHMARKS.md with the server CPU a read costs. Tag "measurement":
 * {@code ./mvnw -q -pl carapace-server -am test -Dcarapace.test.excluded-groups=none
 * -Dtest=RequestMetricsCostMeasurement -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("measurement")
class RequestMetricsCostMeasurement {

    private static final int ROUNDS = 2_000_000;

    @Test
    void measureTheFilterPerRequest() throws Exception {
        RequestMetrics metrics = new RequestMetrics();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try {
            metrics.bindTo(registry);
            FilterChain chain = (request, response) -> ((MockHttpServletResponse) response).setStatus(200);
            double bare = 0;
            double measured = 0;
            for (int round = 0; round < 3; round++) { // the last round counts; the first two warm up
                bare = time(ROUNDS, i -> chain.doFilter(request(i), new MockHttpServletResponse()));
                measured = time(ROUNDS, i -> metrics.doFilter(request(i), new MockHttpServletResponse(), chain));
            }
            System.out.printf("MEASURED request metrics: %.0f ns per request with the filter, %.0f ns without: "
                    + "%.0f ns added%n", measured, bare, measured - bare);
        } finally {
            registry.close();
        }
    }

    private static MockHttpServletRequest request(int i) {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/fhir/Patient/" + (i & 1023));
        request.setRequestURI("/fhir/Patient/" + (i & 1023));
        return request;
    }

    interface Body {
        void run(int i) throws Exception;
    }

    private static double time(int rounds, Body body) throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < rounds; i++) {
            body.run(i);
        }
        return (System.nanoTime() - start) / (double) rounds;
    }
}
