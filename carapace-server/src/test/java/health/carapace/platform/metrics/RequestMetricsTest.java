package health.carapace.platform.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestPolicy;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Request metrics at {@code /admin/metrics}: a histogram per interaction type and outcome class,
 * the audit trail's health beside them, and nothing a client sent (ids, query values) in any
 * series.
 */
class RequestMetricsTest extends IntegrationTest {

    @Test
    void readsSearchesAndRefusalsAreCountedByInteractionWithoutIdsOrQueryValues() {
        String family = "Metric" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        HttpResponse<String> created = send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}")));
        String id = created.body().replaceAll("(?s).*\"id\"\\s*:\\s*\"([^\"]+)\".*", "$1");
        String metricsToken = tokenWithRoles("scrape-" + UUID.randomUUID(), TestPolicy.METRICS);
        double readsBefore = count(scrape(metricsToken), "read", "2xx");
        double deniedBefore = count(scrape(metricsToken), "read", "4xx");

        send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + id)).GET());
        send(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient?family=" + family)).GET());
        sendWithoutToken(HttpRequest.newBuilder(URI.create(fhirBase() + "/Patient/" + id)).GET());
        String scrape = scrape(metricsToken);

        assertThat(count(scrape, "read", "2xx")).isEqualTo(readsBefore + 1);
        assertThat(count(scrape, "read", "4xx")).isEqualTo(deniedBefore + 1);
        assertThat(count(scrape, "search", "2xx")).isPositive();
        assertThat(count(scrape, "create", "2xx")).isPositive();
        assertThat(scrape).contains("carapace_http_requests_seconds_bucket{interaction=\"read\",outcome=\"2xx\",le=");
        assertThat(scrape).contains("carapace_audit_unsealed_events", "carapace_audit_seal_lag_seconds",
                "carapace_audit_relay_lag_leaves", "carapace_audit_verification_age_seconds",
                "carapace_audit_verification_ok");
        assertThat(scrape).doesNotContain(family).doesNotContain(id);
        List<String> interactions = Pattern.compile("carapace_http_requests_seconds_count\\{interaction=\"([^\"]+)\"")
                .matcher(scrape).results().map(m -> m.group(1)).distinct().toList();
        assertThat(interactions).allMatch(i -> List.of("read", "vread", "search", "history", "create", "update", "patch",
                "delete", "transaction", "operation", "capabilities", "token", "oauth2", "sign-in", "admin", "health",
                "other").contains(i));
    }

    @Test
    void theInteractionComesFromTheMethodAndThePathShapeOnly() {
        assertThat(RequestMetrics.interaction("GET", "/fhir/Patient/abc")).isEqualTo("read");
        assertThat(RequestMetrics.interaction("GET", "/fhir/Patient")).isEqualTo("search");
        assertThat(RequestMetrics.interaction("POST", "/fhir/Patient/_search")).isEqualTo("search");
        assertThat(RequestMetrics.interaction("GET", "/fhir/Patient/abc/_history/2")).isEqualTo("vread");
        assertThat(RequestMetrics.interaction("GET", "/fhir/Patient/abc/_history")).isEqualTo("history");
        assertThat(RequestMetrics.interaction("GET", "/fhir/Patient/_history")).isEqualTo("history");
        assertThat(RequestMetrics.interaction("POST", "/fhir/Patient")).isEqualTo("create");
        assertThat(RequestMetrics.interaction("PUT", "/fhir/Patient/abc")).isEqualTo("update");
        assertThat(RequestMetrics.interaction("PATCH", "/fhir/Patient/abc")).isEqualTo("patch");
        assertThat(RequestMetrics.interaction("DELETE", "/fhir/Patient/abc")).isEqualTo("delete");
        assertThat(RequestMetrics.interaction("POST", "/fhir")).isEqualTo("transaction");
        assertThat(RequestMetrics.interaction("POST", "/fhir/Patient/abc/$break-glass")).isEqualTo("operation");
        assertThat(RequestMetrics.interaction("GET", "/fhir/metadata")).isEqualTo("capabilities");
        assertThat(RequestMetrics.interaction("POST", "/oauth2/token")).isEqualTo("token");
        assertThat(RequestMetrics.interaction("GET", "/admin/compliance")).isEqualTo("admin");
        assertThat(RequestMetrics.interaction("GET", "/anything/else")).isEqualTo("other");
        assertThat(RequestMetrics.interaction("PROPFIND", "/fhir/Patient/abc")).isEqualTo("other");
    }

    private String scrape(String token) {
        HttpResponse<String> response = sendWithoutToken(HttpRequest.newBuilder(uri("/admin/metrics"))
                .header("Authorization", "Bearer " + token).GET());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    private static double count(String scrape, String interaction, String outcome) {
        Matcher m = Pattern.compile("carapace_http_requests_seconds_count\\{interaction=\"" + interaction
                + "\",outcome=\"" + outcome + "\"} ([0-9.E+]+)").matcher(scrape);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}
