package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditFeed;
import health.carapace.audit.AuditTrail;
import health.carapace.testing.IntegrationTest;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Measures (does not assert a speed) how fast the detectors read the sealed audit trail: appends
 * {@code -Devents} (default 1,000,000) synthetic events through the real {@link AuditTrail}, lets
 * the server's sealer seal them, then stops the server's own {@link DetectorRunner} and drives that
 * same runner (the same detectors, the same {@code AuditFeed} over the sealed trail, the same
 * transactions and stored state) batch after batch until it has read them all, and reports events/s.
 *
 * <p>The events: 500 people, each with a panel of 20 patients (so {@code volume} stays under its
 * floor), 90 % reads, 5 % searches, 4 % updates, 1 % refusals, all within one clock hour (so
 * {@code unusual-hours} has nothing to say): the detectors inspect everything and open (almost)
 * nothing, which is the steady state whose speed matters. Run alone (it fills the test database):
 * {@code CI=true ./mvnw -q -o -pl carapace-server surefire:test@default-test -Dcarapace.test.excluded-groups=none
 * -Dtest=DetectorSpeedMeasurement -Dsurefire.failIfNoSpecifiedTests=false [-Devents=1000000]} and read
 * the lines starting "MEASURED" (docs/BENCHMARKS.md, docs/INCIDENTS.md "Speed").
 */
@Tag("measurement")
class DetectorSpeedMeasurement extends IntegrationTest {

    private static final int EVENTS = Integer.getInteger("events", 1_000_000);
    private static final int PEOPLE = 500;
    private static final int PANEL = 20;
    private static final int APPEND_BATCH = 1000;

    @Autowired
    AuditTrail trail;

    @Autowired
    AuditFeed feed;

    @Autowired
    DetectorRunner runner;

    @Test
    void measureDetectorsOverTheSealedTrail() {
        runner.stop(); // the measurement drives the server's own runner itself, alone
        try {
            long before = feed.lastSealedLeaf();
            long appendStart = System.nanoTime();
            append();
            double appendSeconds = (System.nanoTime() - appendStart) / 1e9;
            System.out.printf("MEASURED append (set-up, not the detectors): %d events in %.1f s%n", EVENTS, appendSeconds);
            await().atMost(Duration.ofMinutes(20)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> feed.lastSealedLeaf() >= before + EVENTS);
            JdbcClient jdbc = JdbcClient.create(dataSource);
            long incidentsBefore = jdbc.sql("select count(*) from incident.incident").query(Long.class).single();

            long start = System.nanoTime();
            long read = 0;
            for (int n = runner.runOnce(); n > 0; n = runner.runOnce()) {
                read += n;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long incidents = jdbc.sql("select count(*) from incident.incident").query(Long.class).single() - incidentsBefore;
            System.out.printf("MEASURED detectors: %d sealed events in %.1f s = %.0f events/s (batch %d, %d incidents"
                    + " opened, %d cores)%n", read, seconds, read / seconds, 5000, incidents,
                    Runtime.getRuntime().availableProcessors());
            assertThat(read).as("every synthetic event was read").isGreaterThanOrEqualTo(EVENTS);
            assertThat(runner.position()).isGreaterThanOrEqualTo(before + EVENTS);
        } finally {
            runner.start();
        }
    }

    private void append() {
        SplittableRandom random = new SplittableRandom(15);
        String[] patients = new String[PEOPLE * PANEL];
        for (int i = 0; i < patients.length; i++) {
            patients[i] = UUID.randomUUID().toString();
        }
        Instant hour = Instant.now().minus(Duration.ofHours(2)).truncatedTo(ChronoUnit.HOURS);
        long step = Duration.ofMinutes(59).toNanos() / EVENTS;
        List<AuditEvent> batch = new ArrayList<>(APPEND_BATCH);
        for (int k = 0; k < EVENTS; k++) {
            int person = random.nextInt(PEOPLE);
            String patient = patients[person * PANEL + random.nextInt(PANEL)];
            int dice = random.nextInt(100);
            AuditAction action = dice < 90 ? AuditAction.VIEWED : dice < 95 ? AuditAction.SEARCHED
                    : dice < 99 ? AuditAction.MODIFIED : AuditAction.DENIED;
            batch.add(new AuditEvent(UUID.randomUUID(), hour.plusNanos(step * k), "speed-" + person + "@hospital.example",
                    action, "/fhir/Patient/" + patient,
                    new AuditContext("10.15." + (person / 250) + "." + (person % 250), null, null),
                    action != AuditAction.DENIED, "Patient/" + patient, null, UUID.randomUUID().toString(), false,
                    null));
            if (batch.size() == APPEND_BATCH) {
                trail.record(batch);
                batch = new ArrayList<>(APPEND_BATCH);
            }
        }
        if (!batch.isEmpty()) {
            trail.record(batch);
        }
    }
}
