package health.carapace.audit.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.CarapaceApplication;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditVerifier;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.testing.TestInstallation;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Measures (does not assert) audit throughput: durable appends per second with concurrent
 * requests, sealing, and audit verify. Excluded from the normal build; run it with
 * {@code ./mvnw -q -pl carapace-server -am test -Dcarapace.test.excluded-groups=none
 * -Dtest=AuditThroughputMeasurement -Dsurefire.failIfNoSpecifiedTests=false} and read the lines
 * starting "MEASURED" (docs/BENCHMARKS.md).
 */
@Tag("measurement")
@SpringBootTest(classes = CarapaceApplication.class, webEnvironment = SpringBootTest.WebEnvironment.NONE)
@DirtiesContext
class AuditThroughputMeasurement {

    private static final int CLIENTS = Integer.getInteger("clients", 64);
    private static final int SECONDS = Integer.getInteger("seconds", 20);

    private static DevEnvironment installation;

    @Autowired
    AuditTrail trail;

    @Autowired
    TreeSealer sealer;

    @Autowired
    AuditVerifier verifier;

    @DynamicPropertySource
    static void ownDatabase(DynamicPropertyRegistry registry) {
        installation = TestInstallation.separate("audit-throughput");
        installation.properties().forEach((key, value) -> registry.add(key, () -> value));
    }

    @Test
    void measureAppendSealAndVerify() throws Exception {
        run(2); // warm-up
        long appended = run(SECONDS);
        double perSecond = appended / (double) SECONDS;
        System.out.printf("MEASURED append: %d durable events in %d s with %d concurrent clients = %.0f events/s%n",
                appended, SECONDS, CLIENTS, perSecond);

        long sealStart = System.nanoTime();
        long sealed = 0;
        for (var s = sealer.sealOnce(); s.isPresent(); s = sealer.sealOnce()) {
            sealed += s.get().newLeaves();
        }
        double sealSeconds = (System.nanoTime() - sealStart) / 1e9;
        System.out.printf("MEASURED seal: %d events in %.2f s = %.0f events/s%n", sealed, sealSeconds, sealed / sealSeconds);

        long verifyStart = System.nanoTime();
        AuditVerifier.Report report = verifier.verify();
        double verifySeconds = (System.nanoTime() - verifyStart) / 1e9;
        System.out.printf("MEASURED verify: %d events, %d heads in %.2f s = %.0f events/s (ok=%s)%n",
                report.eventsChecked(), report.headsChecked(), verifySeconds, report.eventsChecked() / verifySeconds,
                report.ok());
        assertThat(report.ok()).as(report.firstProblem()).isTrue();
    }

    /** Each client appends one event at a time and waits until it is durable, like a request. */
    private long run(int seconds) throws Exception {
        AtomicLong count = new AtomicLong();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> running = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            running.add(clients.submit(() -> {
                while (System.nanoTime() < end) {
                    trail.record(List.of(new AuditEvent(UUID.randomUUID(), java.time.Instant.now(), "svc-measure",
                            AuditAction.VIEWED, "/fhir/Patient/" + UUID.randomUUID(), new AuditContext("127.0.0.1", null, null),
                            true, "Patient/" + UUID.randomUUID(), null, UUID.randomUUID().toString(), false, null)));
                    count.incrementAndGet();
                }
            }));
        }
        for (Future<?> f : running) {
            f.get();
        }
        clients.shutdown();
        return count.get();
    }
}
