package health.carapace.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;

/**
 * Base of the fuzz targets: the shared running server (one Spring context with the other
 * integration tests), one keep-alive HTTPS client, and the checks every fuzzed request must
 * pass: no 5xx, no uncaught exception, and no marker of the input echoed by a refusal (body,
 * headers) or by any log line. A 2xx may return what it stored; a refusal must be an
 * OperationOutcome.
 */
abstract class FuzzTarget extends IntegrationTest {

    static final String FHIR_JSON = "application/fhir+json";
    static final String FHIR_XML = "application/fhir+xml";

    private HttpClient client;
    private LeakWatch watch;

    @BeforeEach
    void prepare() {
        watch = LeakWatch.install();
        watch.takeFindings();
        client = http();
    }

    HttpRequest.Builder request(String pathAndQuery) {
        return HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token());
    }

    /** Sends and applies the checks; returns the response for target-specific ones. */
    HttpResponse<String> sendAndCheck(HttpRequest.Builder request, String marker) {
        // Jazzer's SSRF detector refuses every connection while fuzzing: the server is on loopback,
        // and nothing else may be reached (set per input, as Jazzer resets it between them)
        com.code_intelligence.jazzer.api.BugDetectors.allowNetworkConnections(
                (host, port) -> host.equals("localhost") || host.equals("127.0.0.1"));
        HttpResponse<String> response;
        try {
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new AssertionError("the server dropped the connection (" + e.getClass().getSimpleName() + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        int status = response.statusCode();
        assertThat(status).as("status; body: %s", response.body()).isLessThan(500);
        if (status >= 300) {
            assertThat(response.body()).as("refusal body").doesNotContain(marker);
            response.headers().map().forEach((name, values) ->
                    assertThat(String.join(",", values)).as("header %s", name).doesNotContain(marker));
            if (status >= 400) {
                Refusals.outcomeOf(response);
            }
        }
        assertThat(watch.takeFindings()).as("log findings").isEmpty();
        return response;
    }
}
