package health.carapace.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestPolicy;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

/**
 * Issue 21, item 5: each caller has its fair share of a node. A caller over its rate (2 per
 * second, bursts of 3 here) is refused with 429, Retry-After and an OperationOutcome, counted in
 * the metrics; another caller at the same moment is served as ever; the greedy one is served
 * again once it waited what Retry-After said; requests without a caller are not counted.
 */
@TestPropertySource(properties = {"carapace.rate-limit.requests-per-second=1", "carapace.rate-limit.burst=3"})
class CallerRateLimitsTest extends IntegrationTest {

    @Autowired
    MeterRegistry metrics;

    @Test
    void aGreedyCallerIsRefusedWith429AndRetryAfterWhileAnotherCallerIsServed() {
        String greedy = tokenWithRoles("greedy", TestPolicy.EVERYTHING);
        String modest = tokenWithRoles("modest", TestPolicy.EVERYTHING);
        double refusedBefore = throttled();

        // sent at once: however slow the machine, the bucket cannot refill faster than 1 per second
        HttpClient client = http();
        long started = System.nanoTime();
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            sent.add(client.sendAsync(searchRequest(greedy).build(), HttpResponse.BodyHandlers.ofString()));
        }
        List<HttpResponse<String>> burst = sent.stream().map(CompletableFuture::join).toList();
        long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds() + 1;
        List<HttpResponse<String>> refused = burst.stream().filter(r -> r.statusCode() == 429).toList();
        assertThat(burst.stream().filter(r -> r.statusCode() == 200).count())
                .as("the bucket holds 3 and refills 1 per second (the burst took under %d s)", seconds)
                .isBetween(3L, 3L + seconds);
        assertThat(refused).isNotEmpty();
        HttpResponse<String> first = refused.get(0);
        assertThat(first.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(first.body()).contains("\"resourceType\":\"OperationOutcome\"").contains("\"code\":\"throttled\"");
        assertThat(throttled() - refusedBefore).isEqualTo(refused.size());

        assertThat(search(modest).statusCode()).as("another caller keeps its own share").isEqualTo(200);

        long retryAfter = Long.parseLong(first.headers().firstValue("Retry-After").orElseThrow());
        await().pollDelay(Duration.ofSeconds(retryAfter)).atMost(Duration.ofSeconds(retryAfter + 5))
                .until(() -> search(greedy).statusCode() == 200);
    }

    @Test
    void requestsWithoutACallerAreNotCounted() {
        for (int i = 0; i < 12; i++) {
            assertThat(sendWithoutToken(HttpRequest.newBuilder(uri("/fhir/metadata"))).statusCode()).isEqualTo(200);
        }
    }

    private HttpResponse<String> search(String token) {
        return sendWithoutToken(searchRequest(token));
    }

    private HttpRequest.Builder searchRequest(String token) {
        return HttpRequest.newBuilder(uri("/fhir/Patient?_count=1")).header("Authorization", "Bearer " + token);
    }

    private double throttled() {
        var counter = metrics.find("carapace.requests.throttled").counter();
        return counter == null ? 0 : counter.count();
    }
}
