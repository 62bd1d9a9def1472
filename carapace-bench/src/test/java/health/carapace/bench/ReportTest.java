package health.carapace.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ConnectException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReportTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A mixed run of 10 s: 1,000 reads and 250 creates, a few errors, and a warm-up 401. */
    private static BenchReport mixedRun() {
        LoadDriver.Phase warmup = new LoadDriver.Phase(Workload.MIXED);
        LoadDriver.Phase measured = new LoadDriver.Phase(Workload.MIXED);
        warmup.of(Operation.READ_PATIENT).recordResponse(401, 1_000_000);
        for (int i = 0; i < 1000; i++) {
            measured.of(Operation.READ_PATIENT).recordResponse(200, (i + 1) * 10_000L);
        }
        for (int i = 0; i < 248; i++) {
            measured.of(Operation.CREATE_PATIENT).recordResponse(201, 30_000_000);
        }
        measured.of(Operation.CREATE_PATIENT).recordResponse(503, 2_000_000);
        measured.of(Operation.CREATE_PATIENT).recordTransportError(new ConnectException());
        ResourceUsage usage = new ResourceUsage(10, 2, 3.5, List.of(new ResourceUsage.ProcessUsage("server", 4242, false,
                12, 1.2, 500, 512, 500, 512, 10, false)), new ResourceUsage.MachineUsage(97.5, 0.4));
        WorkloadResult result = WorkloadResult.of(Workload.MIXED,
                new LoadDriver.Run(warmup, measured, Duration.ofSeconds(10), 0), usage);
        BenchReport.Settings settings = new BenchReport.Settings("https://localhost:8443/fhir", 32, Duration.ofSeconds(20),
                Duration.ofSeconds(10), 42, 1000, 5, "oauth2-client-credentials", "17", 2, Duration.ofSeconds(30),
                new BenchReport.MachineBefore(3.0, 0.25));
        return new BenchReport(Instant.parse("2026-01-01T00:00:00Z"), settings, List.of(result));
    }

    @Test
    void theJsonReportHasThroughputPercentilesAndEveryErrorPerWorkload() throws Exception {
        JsonNode report = JSON.readTree(JsonReport.toJson(mixedRun()));
        assertThat(report.path("tool").asText()).isEqualTo("carapace-bench");
        assertThat(report.path("settings").path("concurrency").asInt()).isEqualTo(32);

        JsonNode mixed = report.path("workloads").get(0);
        assertThat(mixed.path("name").asText()).isEqualTo("mixed");
        assertThat(mixed.path("requests").asLong()).isEqualTo(1250);
        assertThat(mixed.path("successes").asLong()).isEqualTo(1248);
        assertThat(mixed.path("errors").asLong()).isEqualTo(2);
        assertThat(mixed.path("throughputPerSecond").asDouble()).isEqualTo(125.0);
        assertThat(mixed.path("successesPerSecond").asDouble()).isEqualTo(124.8);
        assertThat(mixed.path("errorsByStatus").path("503").asLong()).isEqualTo(1);
        assertThat(mixed.path("transportErrors").path("ConnectException").asLong()).isEqualTo(1);
        assertThat(mixed.path("latencyMs").fieldNames()).toIterable()
                .containsExactly("p50", "p90", "p99", "p999", "max", "mean");
        assertThat(mixed.path("latencyMs").path("max").asDouble()).isBetween(29.9, 30.1);

        assertThat(mixed.path("warmup").path("errors").asLong()).isEqualTo(1);
        assertThat(mixed.path("warmup").path("errorsByStatus").path("401").asLong()).isEqualTo(1);

        JsonNode read = mixed.path("operations").get(0);
        assertThat(read.path("name").asText()).isEqualTo("create-patient");
        assertThat(mixed.path("operations")).hasSize(5);
        JsonNode reads = mixed.path("operations").get(1);
        assertThat(reads.path("name").asText()).isEqualTo("read-patient");
        assertThat(reads.path("share").asDouble()).isEqualTo(0.6);
        assertThat(reads.path("requests").asLong()).isEqualTo(1000);
        assertThat(reads.path("latencyMs").path("p50").asDouble()).isBetween(4.99, 5.01);
        assertThat(reads.path("latencyMs").path("p99").asDouble()).isBetween(9.89, 9.91);

        JsonNode resources = mixed.path("resources");
        assertThat(resources.path("bench").path("cpuCores").asDouble()).isEqualTo(0.35);
        assertThat(resources.path("processes").get(0).path("rssMaxMiB").asDouble()).isEqualTo(512);
        assertThat(resources.path("machine").path("busyPercent").asDouble()).isEqualTo(97.5);
        assertThat(resources.path("machine").path("otherCores").asDouble()).isEqualTo(0.4);
        assertThat(report.path("settings").path("machineBeforeStart").path("busyPercent").asDouble()).isEqualTo(3.0);
    }

    @Test
    void anOperationWithNoResponseHasNullLatenciesNotZero() throws Exception {
        JsonNode report = JSON.readTree(JsonReport.toJson(mixedRun()));
        JsonNode searches = report.path("workloads").get(0).path("operations").get(2);
        assertThat(searches.path("requests").asLong()).isZero();
        assertThat(searches.path("latencyMs").path("p99").isNull()).isTrue();
    }

    @Test
    void theTableShowsEveryErrorIncludingTheWarmUps() {
        StringWriter out = new StringWriter();
        ReportTable.print(mixedRun(), new PrintWriter(out));
        String table = out.toString();
        assertThat(table).contains("mixed").contains("125.0").contains("503 x1, ConnectException x1")
                .contains("warm-up: 401 x1");
        assertThat(table).contains("  read-patient (60%)");
        assertThat(table).contains("server 1.20 (RSS mean 500, max 512 MiB)").contains("bench 0.35")
                .contains("everything else 0.40").contains("machine before start: 3% busy");
    }
}
