package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import health.carapace.CarapaceApplication;
import health.carapace.access.BreakGlass;
import health.carapace.access.Caller;
import health.carapace.audit.AuditContext;
import health.carapace.crypto.KeyRotation;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.testing.TestInstallation;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Crash safety of the key jobs: the jobs run in a separate JVM that is killed (SIGKILL, via
 * {@link Process#destroyForcibly()}) at a random moment while they work, twice; then this JVM
 * resumes them. Afterwards every job has finished, every record reads, every search finds its
 * records, and nothing refers to a retired or destroyed key.
 */
@SpringBootTest(classes = CarapaceApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext
class KeyJobCrashTest extends RotationServer {

    private static DevEnvironment installation;

    @Autowired
    KeyRotation rotation;

    @Autowired
    PatientKeyring deks;

    @Autowired
    TinkBlindIndex blindIndex;

    @Autowired
    KekRing kek;

    @Autowired
    BreakGlass breakGlass;

    @DynamicPropertySource
    static void ownDatabase(DynamicPropertyRegistry registry) {
        jobProperties().forEach((key, value) -> registry.add(key, () -> value));
    }

    /** The installation's properties plus job pacing that makes the jobs last a few seconds. */
    private static Map<String, Object> jobProperties() {
        Map<String, Object> properties = new LinkedHashMap<>(installation0().properties());
        properties.put("carapace.keys.refresh-interval", "PT0.3S");
        properties.put("carapace.keys.batch-size", "20");
        properties.put("carapace.keys.reencrypt-rate", "300");
        return properties;
    }

    private static synchronized DevEnvironment installation0() {
        if (installation == null) {
            installation = TestInstallation.separate("key-job-crash-test");
        }
        return installation;
    }

    @Override
    DevEnvironment installation() {
        return installation0();
    }

    @Test
    void jobsKilledAtRandomMomentsResumeAndLeaveEveryRecordReadableAndSearchable() throws Exception {
        IGenericClient client = fhirClient();
        List<String> ids = createPatients(client, 200);
        // Break-glass reasons under 60 patients' keys: a second store the DEK job re-encrypts
        // (several batches), so kills also land between and inside its batches.
        Instant openedSince = Instant.now().minusSeconds(1);
        Caller clinician = new Caller("crash-glass", Caller.Kind.USER, Set.of("clinician"), null);
        Map<UUID, String> reasons = new HashMap<>();
        for (int i = 0; i < 60; i++) {
            String reason = "Crash test emergency " + i + " " + UUID.randomUUID();
            reasons.put(breakGlass.open(clinician, "Patient/" + ids.get(i), reason,
                    new AuditContext("127.0.0.1", null, null)).id(), reason);
        }
        rotation.rotateKek("test:crash");
        rotation.rotateDeks("test:crash", null);
        rotation.rotateIndexKeys("test:crash");
        Random random = new Random();
        long seed = random.nextLong();
        random.setSeed(seed);

        int killedMidJob = 0;
        for (int round = 0; round < 2; round++) {
            Process child = startChild();
            try {
                String before = progress();
                // wait until the child is working (its progress moves), then kill it at a random moment
                // a child JVM starting on a loaded 2-core machine can take minutes before it works
                long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
                while (progress().equals(before) && child.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                Thread.sleep(random.nextInt(1500));
                if (child.isAlive()) {
                    assertThat(progress()).as("the child JVM was working on the jobs").isNotEqualTo(before);
                    child.destroyForcibly().waitFor();
                    if (owner().sql("select count(*) from ops.key_job where state = 'running'").query(Long.class)
                            .single() > 0) {
                        killedMidJob++;
                    }
                }
            } finally {
                child.destroyForcibly().waitFor();
            }
        }
        assertThat(killedMidJob).as("kills that interrupted unfinished jobs (seed %d)", seed).isPositive();

        assertThat(rotation.runJobs()).isTrue();

        assertThat(owner().sql("select count(*) from ops.key_job where state <> 'finished'").query(Long.class).single())
                .isZero();
        assertThat(owner().sql("select distinct kek_id from keyring.wrapped_key").query(String.class).list())
                .containsExactly(kek.activeVersionFresh().keyId());
        assertThat(kek.activeVersionFresh().version()).isGreaterThanOrEqualTo(2);
        assertThat(owner().sql("select distinct key_version from phi_index.token").query(Integer.class).list())
                .containsExactly(blindIndex.activeVersion());
        for (String id : ids) {
            assertThat(deks.keyCount("Patient/" + id)).as("one key left in each keyset").isEqualTo(1);
        }
        Map<UUID, String> reviewed = new HashMap<>();
        breakGlass.review(openedSince).forEach(review -> reviewed.put(review.grantId(), review.reason()));
        assertThat(reviewed).as("every break-glass reason still reads after its old key was destroyed")
                .isEqualTo(reasons);
        for (int i = 0; i < ids.size(); i++) {
            Patient read = client.read().resource(Patient.class).withId(ids.get(i)).execute();
            assertThat(read.getNameFirstRep().getFamily()).isEqualTo(family(i));
        }
        for (int n = 0; n < 7; n++) {
            List<String> expected = new ArrayList<>();
            for (int i = n; i < ids.size(); i += 7) {
                expected.add(ids.get(i));
            }
            List<String> found = new ArrayList<>();
            Bundle page = client.search().forResource(Patient.class)
                    .where(Patient.FAMILY.matchesExactly().value(family(n))).count(100)
                    .returnBundle(Bundle.class).execute();
            page.getEntry().forEach(e -> found.add(e.getResource().getIdElement().getIdPart()));
            assertThat(found).containsExactlyInAnyOrderElementsOf(expected);
        }
    }

    /** What the jobs have done so far: changes whenever a job checkpoints or changes phase. */
    private String progress() {
        return owner().sql("select coalesce(string_agg(phase || ':' || done || ':' || state, ',' order by kind), '') "
                + "from ops.key_job").query(String.class).single();
    }

    private Process startChild() throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), RunJobsInAnotherProcess.class.getName()));
        jobProperties().forEach((key, value) -> command.add("--" + key + "=" + value));
        File log = Files.createTempFile("key-job-child", ".log").toFile();
        log.deleteOnExit();
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
    }

    /** Entry point of the process that gets killed: a non-web Carapace that runs the key jobs. */
    static final class RunJobsInAnotherProcess {
        public static void main(String[] args) {
            try (ConfigurableApplicationContext context = CarapaceApplication.run(Map.of(), false, args)) {
                context.getBean(KeyRotation.class).runJobs();
            }
            System.exit(0);
        }
    }
}
