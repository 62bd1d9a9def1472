package health.carapace.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The crash-safety measurement (tagged {@code measurement}, so not in the normal build): at least
 * 20 kill cycles, {@code audit verify} after every restart, results written to
 * {@code carapace-server/target/crash-safety-measurement.md} for docs/RELIABILITY.md. Run with
 * <pre>
 * ./mvnw -q -pl carapace-server -am test -Dcarapace.test.excluded-groups=none \
 *     -Dtest=CrashSafetyMeasurement -Dsurefire.failIfNoSpecifiedTests=false \
 *     [-Dcarapace.crash.cycles=21] [-Dcarapace.crash.clients=2] [-Dcarapace.crash.seed=N]
 * </pre>
 */
@Tag("measurement")
class CrashSafetyMeasurement {

    @Test
    void killCycles() throws Exception {
        int cycles = Integer.getInteger("carapace.crash.cycles", 21);
        int clients = Integer.getInteger("carapace.crash.clients", 2);
        long seed = Long.getLong("carapace.crash.seed", System.nanoTime());
        Path dataDir = Files.createTempDirectory(Path.of("target"), "crash-safety-measurement-");
        var plan = new CrashHarness.Plan(cycles, clients, Duration.ofMillis(1000), Duration.ofMillis(8000), true, seed);
        CrashHarness.Result result;
        try (var server = new DevServerProcess(dataDir, DevServerProcess.freePort())) {
            result = new CrashHarness(server, plan).run();
        }
        Files.writeString(Path.of("target", "crash-safety-measurement.md"),
                "seed " + seed + ", " + clients + " load clients, load 1-8 s before each kill\n\n" + result.summary());

        assertThat(result.cycles()).hasSize(cycles);
        assertThat(result.lostWrites()).as("acknowledged writes lost").isZero();
        assertThat(result.unauditedResponses()).as("successful PHI responses without an audit event").isZero();
        assertThat(result.cycles()).allSatisfy(cycle -> assertThat(cycle.auditVerify()).isEqualTo(CrashHarness.VERIFY_OK));
    }
}
