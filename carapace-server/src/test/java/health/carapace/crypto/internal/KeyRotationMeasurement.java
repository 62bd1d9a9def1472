package health.carapace.crypto.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import health.carapace.CarapaceApplication;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyRotation;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.testing.SoftHsm;
import health.carapace.testing.TestInstallation;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Measures (does not assert a speed) the key rotation jobs: DEKs re-wrapped per second with the
 * KEK in SoftHSM2, and resource versions re-encrypted per second while reader threads keep
 * reading records over HTTPS. Excluded from the normal build; run it with
 * {@code mvn -q -o -pl carapace-server -am test -Dcarapace.test.excluded-groups=none
 * -Dtest=KeyRotationMeasurement -Dsurefire.failIfNoSpecifiedTests=false} and read the lines
 * starting "MEASURED" (docs/BENCHMARKS.md). Sizes: -Dpatients (default 4000, each with 5
 * observations), -Ddeks (wrapped keys for the re-wrap, default 50000), -Dreaders (default 8).
 */
@Tag("measurement")
@ExtendWith(SoftHsm.Required.class)
@SpringBootTest(classes = CarapaceApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext
class KeyRotationMeasurement extends RotationServer {

    private static final int PATIENTS = Integer.getInteger("patients", 4000);
    private static final int DEKS = Integer.getInteger("deks", 50_000);
    private static final int READERS = Integer.getInteger("readers", 8);
    private static DevEnvironment installation;

    @Autowired
    KeyRotation rotation;

    @Autowired
    KekRing kek;

    @Autowired
    KeyringStore store;

    @DynamicPropertySource
    static void ownDatabaseAndHsmKek(DynamicPropertyRegistry registry) {
        Map<String, Object> properties = new LinkedHashMap<>(installation0().properties());
        properties.remove("carapace.kek.dev-keystore.path");
        properties.putAll(SoftHsm.get().kekProperties("carapace-measurement-kek"));
        properties.put("carapace.keys.refresh-interval", "PT0.1S");
        properties.put("carapace.keys.reencrypt-rate", "0");
        properties.put("carapace.keys.batch-size", "1000");
        properties.forEach((key, value) -> registry.add(key, () -> value));
    }

    private static synchronized DevEnvironment installation0() {
        if (installation == null) {
            installation = TestInstallation.separate("key-rotation-measurement");
        }
        return installation;
    }

    @Override
    DevEnvironment installation() {
        return installation0();
    }

    /** Records when each phase of the running job began, by polling ops.key_job. */
    private final class PhaseClock implements AutoCloseable {
        final Map<String, Long> began = new ConcurrentHashMap<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread = new Thread(() -> {
            while (running.get()) {
                for (String phase : owner().sql("select phase from ops.key_job where state = 'running'")
                        .query(String.class).list()) {
                    began.putIfAbsent(phase, System.nanoTime());
                }
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });

        PhaseClock() {
            thread.start();
        }

        double seconds(String from, long end) {
            return (end - began.get(from)) / 1e9;
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }

    @Test
    void measureRewrapAndReencrypt() throws Exception {
        IGenericClient client = fhirClient();
        long seedStart = System.nanoTime();
        List<String> ids = createPatients(client, PATIENTS);
        for (int round = 1; round < 5; round++) {
            // four more versions of each observation's worth of data: more observations per patient
            createObservations(client, ids);
        }
        long versions = owner().sql("select count(*) from phi.resource_version where ciphertext is not null")
                .query(Long.class).single();
        System.out.printf("MEASURED seed: %d patients, %d resource versions in %.1f s%n", ids.size(), versions,
                (System.nanoTime() - seedStart) / 1e9);

        // Re-encryption while readers keep reading over HTTPS.
        AtomicBoolean reading = new AtomicBoolean(true);
        AtomicLong reads = new AtomicLong();
        AtomicLong readErrors = new AtomicLong();
        ExecutorService readers = Executors.newFixedThreadPool(READERS);
        List<Future<?>> readerTasks = new ArrayList<>();
        for (int r = 0; r < READERS; r++) {
            int offset = r;
            IGenericClient readerClient = fhirClient();
            readerTasks.add(readers.submit(() -> {
                int i = offset;
                while (reading.get()) {
                    try {
                        readerClient.read().resource(Patient.class).withId(ids.get(i % ids.size())).execute();
                        reads.incrementAndGet();
                    } catch (RuntimeException e) {
                        readErrors.incrementAndGet();
                    }
                    i += READERS;
                }
            }));
        }
        Thread.sleep(2000);
        long readsBefore = reads.get();
        long readWindowStart = System.nanoTime();
        double reencryptSeconds;
        try (PhaseClock clock = new PhaseClock()) {
            rotation.rotateDeks("measurement", null);
            assertThat(rotation.runJobs()).isTrue();
            long end = System.nanoTime();
            clock.close();
            reencryptSeconds = (clock.began.get("destroy") - clock.began.get("reencrypt")) / 1e9;
            System.out.printf("MEASURED rotate-deks: add-keys %.2f s for %d keysets, re-encrypt %.2f s for %d versions"
                    + " = %.0f versions/s, destroy %.2f s%n",
                    (clock.began.get("settle") - clock.began.get("add-keys")) / 1e9, ids.size(),
                    reencryptSeconds, versions, versions / reencryptSeconds, clock.seconds("destroy", end));
            System.out.printf("MEASURED load average after rotate-deks: %s%n", loadAverage());
        }
        long readsDuring = reads.get() - readsBefore;
        double readSeconds = (System.nanoTime() - readWindowStart) / 1e9;
        reading.set(false);
        for (Future<?> task : readerTasks) {
            task.get();
        }
        readers.shutdown();
        System.out.printf("MEASURED reads during rotate-deks: %d reads in %.1f s = %.0f reads/s by %d readers,"
                + " %d errors%n", readsDuring, readSeconds, readsDuring / readSeconds, READERS, readErrors.get());

        // Re-wrap: many more wrapped keys than patients, each a real Tink keyset wrapped in the HSM.
        long fillStart = System.nanoTime();
        fillKeyring(DEKS);
        long wrapped = owner().sql("select count(*) from keyring.wrapped_key").query(Long.class).single();
        System.out.printf("MEASURED keyring filled with %d wrapped keys in %.1f s%n", wrapped,
                (System.nanoTime() - fillStart) / 1e9);
        // The HSM's own ceiling on this machine: AES-GCM wraps of a keyset-sized value per second,
        // with as many threads as the job uses. A re-wrap is one unwrap and one wrap.
        KeyEncryptionKey hsm = kek.active();
        byte[] value = new byte[100];
        for (int threads : new int[] {1, 2, 4, 8}) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            long hsmStart = System.nanoTime();
            List<Future<?>> ops = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                ops.add(pool.submit(() -> {
                    for (int i = 0; i < 16_000 / threads; i++) {
                        hsm.encrypt(value, value);
                    }
                    return null;
                }));
            }
            for (Future<?> op : ops) {
                op.get();
            }
            pool.shutdown();
            double hsmSeconds = (System.nanoTime() - hsmStart) / 1e9;
            System.out.printf("MEASURED SoftHSM2 AES-GCM wraps (%d threads): %.0f ops/s; load average %s%n", threads,
                    16_000 / hsmSeconds, loadAverage());
        }

        // -Djfr=FILE profiles the re-wrap (JDK Flight Recorder, "profile" settings)
        jdk.jfr.Recording recording = null;
        if (System.getProperty("jfr") != null) {
            recording = new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
            recording.start();
        }
        try (PhaseClock clock = new PhaseClock()) {
            rotation.rotateKek("measurement");
            assertThat(rotation.runJobs()).isTrue();
            clock.close();
            double rewrapSeconds = (clock.began.get("retire") - clock.began.get("rewrap")) / 1e9;
            System.out.printf("MEASURED rotate-kek (SoftHSM2): re-wrap %.2f s for %d keys = %.0f keys/s;"
                    + " load average %s%n", rewrapSeconds, wrapped, wrapped / rewrapSeconds, loadAverage());
        }
        if (recording != null) {
            recording.stop();
            recording.dump(java.nio.file.Path.of(System.getProperty("jfr")));
        }
        assertThat(owner().sql("select count(distinct kek_id) from keyring.wrapped_key").query(Long.class).single())
                .isEqualTo(1);
    }

    /** The machine's 1, 5 and 15 minute load averages: on a shared machine, whether a figure is ours. */
    private static String loadAverage() {
        try {
            String[] parts = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ");
            return parts[0] + " " + parts[1] + " " + parts[2] + " (" + Runtime.getRuntime().availableProcessors()
                    + " cores)";
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    private void createObservations(IGenericClient client, List<String> ids) {
        for (int start = 0; start < ids.size(); start += 100) {
            org.hl7.fhir.r4.model.Bundle bundle = new org.hl7.fhir.r4.model.Bundle()
                    .setType(org.hl7.fhir.r4.model.Bundle.BundleType.TRANSACTION);
            for (int i = start; i < Math.min(ids.size(), start + 100); i++) {
                org.hl7.fhir.r4.model.Observation observation = new org.hl7.fhir.r4.model.Observation();
                observation.setStatus(org.hl7.fhir.r4.model.Observation.ObservationStatus.FINAL);
                observation.getCode().addCoding().setSystem("http://loinc.org").setCode("8480-6");
                observation.setSubject(new org.hl7.fhir.r4.model.Reference("Patient/" + ids.get(i)));
                observation.setValue(new org.hl7.fhir.r4.model.Quantity(120 + i % 30).setUnit("mm[Hg]"));
                bundle.addEntry().setResource(observation).getRequest()
                        .setMethod(org.hl7.fhir.r4.model.Bundle.HTTPVerb.POST).setUrl("Observation");
            }
            client.transaction().withBundle(bundle).execute();
        }
    }

    /** Adds wrapped DEK keysets (no records) so that the re-wrap has a realistic number of keys. */
    private void fillKeyring(int count) throws Exception {
        ExecutorService workers = Executors.newFixedThreadPool(4);
        List<Future<?>> tasks = new ArrayList<>();
        KeyEncryptionKey active = kek.active();
        for (int t = 0; t < 4; t++) {
            tasks.add(workers.submit(() -> {
                for (int i = 0; i < count / 4; i++) {
                    String ref = "dek/Patient/" + UUID.randomUUID();
                    KeysetHandle keyset = KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM);
                    store.insertIfAbsent(ref, active.id(), TinkProtoKeysetFormat.serializeEncryptedKeyset(
                            keyset, active, ref.getBytes(UTF_8)));
                }
                return null;
            }));
        }
        for (Future<?> task : tasks) {
            task.get();
        }
        workers.shutdown();
    }
}
