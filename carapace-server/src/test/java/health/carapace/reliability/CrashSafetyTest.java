package health.carapace.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The short version of the crash-safety harness in the normal build: one cycle of each kill
 * ({@code kill -9} of the server, of its PostgreSQL, of both) against a start-dev server in its
 * own process. The measurement (at least 20 cycles) is {@link CrashSafetyMeasurement}; what
 * either proves is in docs/RELIABILITY.md.
 */
class CrashSafetyTest {

    @Test
    void everyAcknowledgedWriteAndAuditEventSurvivesKillNineOfServerDatabaseAndBoth() throws Exception {
        Path dataDir = Files.createTempDirectory(Path.of("target"), "crash-safety-");
        var plan = new CrashHarness.Plan(3, 2, Duration.ofMillis(1500), Duration.ofMillis(3000), false,
                System.nanoTime());
        CrashHarness.Result result;
        try (var server = new DevServerProcess(dataDir, DevServerProcess.freePort())) {
            result = new CrashHarness(server, plan).run();
        }
        CrashHarness.writeReport(Path.of("target", "crash-safety-test.md"), result);

        assertThat(result.cycles()).hasSize(3);
        assertThat(result.writesChecked()).as("acknowledged writes were made and checked").isPositive();
        assertThat(result.responsesChecked()).as("PHI responses were checked in the audit trail").isPositive();
        result.cycles().forEach(cycle -> {
            assertThat(cycle.lostWrites()).as("cycle %s (%s): acknowledged writes lost", cycle.number(), cycle.kill())
                    .isEmpty();
            assertThat(cycle.unauditedResponses())
                    .as("cycle %s (%s): successful PHI responses without an audit event", cycle.number(), cycle.kill())
                    .isEmpty();
        });
        assertThat(result.finalLostWrites()).isEmpty();
        assertThat(result.cycles().get(result.cycles().size() - 1).auditVerify())
                .as("audit verify after the last restart").isEqualTo(CrashHarness.VERIFY_OK);
        org.springframework.util.FileSystemUtils.deleteRecursively(dataDir);
    }
}
