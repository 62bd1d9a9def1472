package health.carapace.platform.web;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ResponseHeadersTest extends IntegrationTest {

    @Test
    void requestIdIsTheServersOwnAndNoProductBannerIsSent() {
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient"))
                .header("X-Request-Id", "client-chosen-id").GET());
        assertThat(response.statusCode()).isEqualTo(200);
        String id = response.headers().firstValue("X-Request-Id").orElseThrow();
        assertThat(id).isNotEqualTo("client-chosen-id");
        assertThat(UUID.fromString(id)).isNotNull();
        assertThat(response.headers().allValues("X-Request-Id")).hasSize(1);
        assertThat(response.headers().firstValue("X-Powered-By")).isEmpty();
        assertThat(response.headers().firstValue("Strict-Transport-Security")).isPresent();
        assertThat(response.headers().firstValue("Cache-Control").orElseThrow()).contains("no-store");
    }

    @Test
    void refusalsCarryTheRequestIdInTheirOutcome() {
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient?family=ab")).GET());
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains(response.headers().firstValue("X-Request-Id").orElseThrow());
    }
}
