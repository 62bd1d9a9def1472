package health.carapace.crypto.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import health.carapace.CarapaceApplication;
import health.carapace.access.BreakGlass;
import health.carapace.access.Caller;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditQueries;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyRotation;
import health.carapace.crypto.KeyStatusReport;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.crypto.RecordCipher;
import health.carapace.crypto.RecordIntegrityException;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.testing.SoftHsm;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TokenInspector;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Key rotation on a live server (ADR 0010), with the KEK in SoftHSM2: each rotation runs while
 * other threads keep reading, writing and searching through the HTTPS API, and afterwards every
 * record reads and every search finds what it found before.
 */
@ExtendWith(SoftHsm.Required.class)
@SpringBootTest(classes = CarapaceApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KeyRotationTest extends RotationServer {

    private static final String KEY_LABEL = "carapace-rotation-test-kek";
    private static DevEnvironment installation;

    @Autowired
    KeyRotation rotation;

    @Autowired
    KekRing kek;

    @Autowired
    PatientKeyring deks;

    @Autowired
    TinkBlindIndex blindIndex;

    @Autowired
    KeyringStore store;

    @Autowired
    AuditQueries audit;

    @Autowired
    KeyRotationScheduler scheduler;

    @Autowired
    KeyMetrics metrics;

    @Autowired
    BreakGlass breakGlass;

    @DynamicPropertySource
    static void ownDatabaseAndHsmKek(DynamicPropertyRegistry registry) {
        Map<String, Object> properties = new LinkedHashMap<>(installation0().properties());
        properties.remove("carapace.kek.dev-keystore.path");
        properties.putAll(SoftHsm.get().kekProperties(KEY_LABEL));
        // Short refresh so that the jobs' settle waits are short; a slow re-index so that searches
        // really run while the index holds tokens of both versions.
        properties.put("carapace.keys.refresh-interval", "PT0.5S");
        properties.put("carapace.keys.batch-size", "25");
        properties.put("carapace.keys.reencrypt-rate", "400");
        properties.forEach((key, value) -> registry.add(key, () -> value));
    }

    private static synchronized DevEnvironment installation0() {
        if (installation == null) {
            installation = TestInstallation.separate("key-rotation-test");
        }
        return installation;
    }

    @Override
    DevEnvironment installation() {
        return installation0();
    }

    /** Reads, writes and searches in a loop until stopped; collects any failure. */
    private final class Traffic implements AutoCloseable {
        final List<Throwable> failures = new CopyOnWriteArrayList<>();
        final AtomicInteger requests = new AtomicInteger();
        final AtomicInteger mixedIndexSearches = new AtomicInteger();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Traffic(List<String> patients) {
            IGenericClient client = fhirClient();
            thread = new Thread(() -> {
                int i = 0;
                while (running.get()) {
                    try {
                        String id = patients.get(i % patients.size());
                        Patient read = client.read().resource(Patient.class).withId(id).execute();
                        assertThat(read.getNameFirstRep().getFamily()).startsWith("Rotafam");
                        int n = i % 7;
                        boolean mixed = owner().sql("select count(distinct key_version) > 1 from phi_index.token")
                                .query(Boolean.class).single();
                        Bundle found = client.search().forResource(Patient.class)
                                .where(Patient.FAMILY.matchesExactly().value(family(n))).count(100)
                                .returnBundle(Bundle.class).execute();
                        assertThat(found.getEntry()).isNotEmpty().allSatisfy(e -> assertThat(
                                ((Patient) e.getResource()).getNameFirstRep().getFamily()).isEqualTo(family(n)));
                        assertThat(found.getEntry().size()).isGreaterThanOrEqualTo(expectedFamilyCount(patients, n));
                        if (mixed) {
                            mixedIndexSearches.incrementAndGet();
                        }
                        Patient written = new Patient();
                        written.addName().setFamily(family(n)).addGiven("During" + i);
                        client.create().resource(written).execute();
                        requests.addAndGet(3);
                        i++;
                    } catch (Throwable e) {
                        failures.add(e);
                        running.set(false);
                    }
                }
            }, "rotation-traffic");
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(60_000);
        }
    }

    private static int expectedFamilyCount(List<String> patients, int n) {
        int count = 0;
        for (int i = 0; i < patients.size(); i++) {
            if (i % 7 == n) {
                count++;
            }
        }
        return count;
    }

    private static List<String> patients;

    private synchronized List<String> patients() {
        if (patients == null) {
            patients = createPatients(fhirClient(), 150);
        }
        return patients;
    }

    @Test
    @Order(1)
    void kekRotationRewrapsEveryKeyUnderANewHsmKeyAndRetiresTheOldWhileTrafficContinues() throws Exception {
        List<String> ids = patients();
        String oldKek = "pkcs11/" + KEY_LABEL;
        String newKek = "pkcs11/" + KEY_LABEL + "-v2";
        assertThat(kek.id()).isEqualTo(oldKek);
        byte[] wrappedSecret = kek.encrypt("survives".getBytes(UTF_8), "test".getBytes(UTF_8));
        Instant before = Instant.now();

        try (Traffic traffic = new Traffic(ids)) {
            rotation.rotateKek("test:rotation");
            assertThat(rotation.runJobs()).isTrue();
            traffic.close();
            assertThat(traffic.failures).isEmpty();
            assertThat(traffic.requests.get()).isPositive();
        }

        assertThat(kek.id()).isEqualTo(newKek);
        List<String> kekIds = owner().sql("select distinct kek_id from keyring.wrapped_key").query(String.class).list();
        assertThat(kekIds).containsExactly(newKek);
        assertThat(store.versions(KekRing.KIND)).extracting(KeyringStore.KeyVersion::state)
                .containsExactly("retired", "active");
        // A new key object in the token, under its own label; the old one stays, unusable by Carapace.
        SoftHsm.Token token = SoftHsm.get().token(SoftHsm.KEK_TOKEN);
        TokenInspector inspector = TokenInspector.of(SoftHsm.get().library());
        assertThat(inspector.secretKeys(token.slotListIndex(), KEY_LABEL + "-v2")).singleElement()
                .satisfies(key -> assertThat(key.extractable()).isFalse());
        assertThat(inspector.secretKeys(token.slotListIndex(), KEY_LABEL)).hasSize(1);
        assertThatThrownBy(() -> kek.unwrapping(oldKek)).isInstanceOf(KeyUnavailableException.class)
                .hasMessageContaining("retired");
        assertThatThrownBy(() -> kek.decrypt(wrappedSecret, "test".getBytes(UTF_8)))
                .isInstanceOf(java.security.GeneralSecurityException.class);
        // Every record still reads (its DEK unwraps under the new version).
        IGenericClient client = fhirClient();
        for (String id : ids) {
            assertThat(client.read().resource(Patient.class).withId(id).execute().getIdElement().getIdPart())
                    .isEqualTo(id);
        }
        assertThat(keyEvents(before)).contains("/keys/kek/rotation-started", "/keys/kek/v2/activated",
                "/keys/kek/v1/retired", "/keys/kek/rotation-finished");
    }

    @Test
    @Order(2)
    void dekRotationReencryptsEveryVersionAndDestroysTheOldKeysOnceNothingRefersToThem() throws Exception {
        List<String> ids = patients();
        Map<String, Integer> oldKeyIds = primaryKeyIdsByCompartment();
        // A ciphertext under an old key, to prove afterwards that the key is really gone.
        Map<String, Object> sample = owner().sql("""
                select resource_type, resource_id, version, compartment, ciphertext from phi.resource_version
                where compartment = ? and resource_type = 'Patient' and version = 1""")
                .param("Patient/" + ids.get(0)).query().singleRow();
        byte[] oldCiphertext = (byte[]) sample.get("ciphertext");
        byte[] aad = ("carapace/v1|Patient/" + ids.get(0) + "/_history/1|Patient/" + ids.get(0)).getBytes(UTF_8);
        // Another node's keyring that cached the keyset before the rotation.
        PatientKeyring otherNode = otherNode();
        assertThat(otherNode.decrypt("Patient/" + ids.get(0), oldCiphertext, aad)).isNotEmpty();
        Instant before = Instant.now();

        try (Traffic traffic = new Traffic(ids)) {
            rotation.rotateDeks("test:rotation", null);
            assertThat(rotation.runJobs()).isTrue();
            traffic.close();
            assertThat(traffic.failures).isEmpty();
        }

        Map<String, Integer> newKeyIds = primaryKeyIdsByCompartment();
        for (String id : ids) {
            String compartment = "Patient/" + id;
            assertThat(newKeyIds.get(compartment)).isNotEqualTo(oldKeyIds.get(compartment));
            assertThat(deks.keyCount(compartment)).as("old key removed from the keyset").isEqualTo(1);
        }
        // Every stored ciphertext is under its compartment's one remaining key.
        owner().sql("""
                select compartment, ciphertext from phi.resource_version
                where ciphertext is not null and compartment like 'Patient/%'""")
                .query((rs, n) -> Map.entry(rs.getString(1), rs.getBytes(2))).list()
                .forEach(row -> assertThat(RecordCipher.keyIdOf(row.getValue())).isEqualTo(newKeyIds.get(row.getKey())));
        // The old ciphertext no longer decrypts anywhere: its key is destroyed.
        byte[] reencrypted = owner().sql("""
                select ciphertext from phi.resource_version where resource_type = 'Patient' and resource_id = ?
                and version = 1""").param(UUID.fromString(ids.get(0))).query(byte[].class).single();
        assertThat(reencrypted).isNotEqualTo(oldCiphertext);
        assertThatThrownBy(() -> deks.decrypt("Patient/" + ids.get(0), oldCiphertext, aad))
                .isInstanceOf(RecordIntegrityException.class);
        // The other node re-reads the keyset when it meets a key id it does not know.
        assertThat(new String(otherNode.decrypt("Patient/" + ids.get(0), reencrypted, aad), UTF_8))
                .contains("Rotafam");
        IGenericClient client = fhirClient();
        for (String id : ids) {
            assertThat(client.read().resource(Patient.class).withId(id).execute().getNameFirstRep().getFamily())
                    .startsWith("Rotafam");
        }
        assertThat(keyEvents(before)).contains("/keys/dek/rotation-started", "/keys/dek/old-keys-destroyed",
                "/keys/dek/rotation-finished");
    }

    @Test
    @Order(3)
    void dekRotationReencryptsBreakGlassReasonsSoThatTheReviewStillReadsThem() {
        List<String> ids = patients();
        String rotated = "Patient/" + ids.get(10);
        String untouched = "Patient/" + ids.get(11);
        Caller clinician = new Caller("rotation-glass-" + UUID.randomUUID(), Caller.Kind.USER, Set.of("clinician"), null);
        AuditContext context = new AuditContext("127.0.0.1", null, null);
        String firstReason = "Unconscious on arrival " + UUID.randomUUID();
        String secondReason = "Allergy check after hours " + UUID.randomUUID();
        Instant since = Instant.now().minusSeconds(1);
        BreakGlass.Grant first = breakGlass.open(clinician, rotated, firstReason, context);
        BreakGlass.Grant second = breakGlass.open(clinician, untouched, secondReason, context);
        byte[] oldReason = reasonCiphertext(first.id());
        byte[] aad = ("carapace/break-glass/" + first.id() + "|" + rotated).getBytes(UTF_8);
        assertThat(RecordCipher.keyIdOf(oldReason)).isEqualTo(primaryKeyIdsByCompartment().get(rotated));
        Integer untouchedKey = RecordCipher.keyIdOf(reasonCiphertext(second.id()));

        // one patient's keys
        rotation.rotateDeks("test:rotation", UUID.fromString(ids.get(10)));
        assertThat(rotation.runJobs()).isTrue();

        Integer newKey = primaryKeyIdsByCompartment().get(rotated);
        assertThat(newKey).isNotEqualTo(RecordCipher.keyIdOf(oldReason));
        assertThat(deks.keyCount(rotated)).as("old key destroyed").isEqualTo(1);
        assertThat(RecordCipher.keyIdOf(reasonCiphertext(first.id()))).isEqualTo(newKey);
        assertThat(RecordCipher.keyIdOf(reasonCiphertext(second.id()))).isEqualTo(untouchedKey);
        assertThatThrownBy(() -> deks.decrypt(rotated, oldReason, aad)).isInstanceOf(RecordIntegrityException.class);
        assertThat(breakGlass.reason(first.id())).contains(firstReason);

        // then everybody's
        rotation.rotateDeks("test:rotation", null);
        assertThat(rotation.runJobs()).isTrue();

        Map<String, Integer> primary = primaryKeyIdsByCompartment();
        assertThat(primary.get(untouched)).isNotEqualTo(untouchedKey);
        assertThat(deks.keyCount(untouched)).isEqualTo(1);
        owner().sql("select patient, reason from iam.break_glass where patient like 'Patient/%'")
                .query((rs, n) -> Map.entry(rs.getString(1), rs.getBytes(2))).list()
                .forEach(row -> assertThat(RecordCipher.keyIdOf(row.getValue()))
                        .as("every reason under its patient's one remaining key")
                        .isEqualTo(primary.get(row.getKey())));
        // the review of emergency accesses (what `admin break-glass-review` prints) reads both
        assertThat(breakGlass.review(since)).filteredOn(review -> review.principal().equals(clinician.principal()))
                .extracting(BreakGlass.Review::grantId, BreakGlass.Review::reason)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple(first.id(), firstReason),
                        org.assertj.core.groups.Tuple.tuple(second.id(), secondReason));
    }

    private byte[] reasonCiphertext(UUID grantId) {
        return owner().sql("select reason from iam.break_glass where grant_id = ?").param(grantId)
                .query(byte[].class).single();
    }

    @Test
    @Order(4)
    void onePatientsDekRotationTouchesOnlyThatPatient() {
        List<String> ids = patients();
        Map<String, Integer> before = primaryKeyIdsByCompartment();

        rotation.rotateDeks("test:rotation", UUID.fromString(ids.get(1)));
        assertThat(rotation.runJobs()).isTrue();

        Map<String, Integer> after = primaryKeyIdsByCompartment();
        assertThat(after.get("Patient/" + ids.get(1))).isNotEqualTo(before.get("Patient/" + ids.get(1)));
        assertThat(after.get("Patient/" + ids.get(2))).isEqualTo(before.get("Patient/" + ids.get(2)));
        assertThat(deks.keyCount("Patient/" + ids.get(1))).isEqualTo(1);
        assertThat(fhirClient().read().resource(Patient.class).withId(ids.get(1)).execute().getNameFirstRep()
                .getFamily()).isEqualTo(family(1));
    }

    @Test
    @Order(5)
    void indexKeyRotationReindexesWhileSearchKeepsFindingEveryMatch() throws Exception {
        List<String> ids = patients();
        assertThat(blindIndex.activeVersion()).isEqualTo(1);
        Instant before = Instant.now();
        int mixed;

        try (Traffic traffic = new Traffic(ids)) {
            rotation.rotateIndexKeys("test:rotation");
            assertThat(rotation.runJobs()).isTrue();
            traffic.close();
            assertThat(traffic.failures).isEmpty();
            mixed = traffic.mixedIndexSearches.get();
        }

        assertThat(mixed).as("searches that ran while tokens of both versions were stored").isPositive();
        assertThat(blindIndex.activeVersion()).isEqualTo(2);
        assertThat(blindIndex.searchableVersions()).containsExactly(2);
        assertThat(owner().sql("select distinct key_version from phi_index.token").query(Integer.class).list())
                .containsExactly(2);
        assertThat(store.versions(TinkBlindIndex.KIND)).extracting(KeyringStore.KeyVersion::state)
                .containsExactly("retired", "active");
        // Identifier search (exact token) under the new key.
        Bundle byIdentifier = fhirClient().search().forResource(Patient.class)
                .where(Patient.IDENTIFIER.exactly().systemAndCode("urn:rotation-test", "mrn-3"))
                .returnBundle(Bundle.class).execute();
        assertThat(byIdentifier.getEntry()).singleElement()
                .satisfies(e -> assertThat(e.getResource().getIdElement().getIdPart()).isEqualTo(ids.get(3)));
        assertThat(keyEvents(before)).contains("/keys/index-root/v2/activated", "/keys/index-root/v1/retired",
                "/keys/index-root/rotation-finished");
    }

    @Test
    @Order(6)
    void jobsSkipAShreddedPatientWhoseDataKeyIsGone() {
        List<String> ids = patients();
        String shredded = ids.get(5);
        // What crypto-shredding leaves behind: the patient's records, no wrapped DEK, and the keyring's tombstone
        // (without it a missing key is not "destroyed" but missing, which stops the jobs: ADR 0049).
        owner().sql("delete from keyring.wrapped_key where key_ref = ?").param("dek/Patient/" + shredded).update();
        owner().sql("insert into keyring.shredded_compartment (compartment, request_id) values (?, ?)")
                .params("Patient/" + shredded, UUID.randomUUID()).update();
        deks.invalidateAll();

        rotation.rotateKek("test:rotation");
        rotation.rotateDeks("test:rotation", null);
        rotation.rotateIndexKeys("test:rotation");
        assertThat(rotation.runJobs()).isTrue();
        rotation.rotateDeks("test:rotation", UUID.fromString(shredded));
        assertThat(rotation.runJobs()).isTrue();

        assertThat(owner().sql("select count(*) from ops.key_job where state <> 'finished'").query(Long.class).single())
                .isZero();
        assertThat(fhirClient().read().resource(Patient.class).withId(ids.get(6)).execute().getNameFirstRep()
                .getFamily()).isEqualTo(family(6));
        assertThat(owner().sql("select count(*) from phi_index.token where resource_id = ?")
                .param(UUID.fromString(shredded)).query(Long.class).single())
                .as("an unreadable patient's old tokens are dropped, not carried to the new key").isZero();
    }

    @Test
    @Order(7)
    void statusShowsEveryKeyWithAgeStateAndEncryptionsAndWarnsNearTheGcmBound() {
        KeyRotation.Status status = rotation.status();

        assertThat(status.encryptionWarning()).isEqualTo(1L << 30);
        assertThat(status.keys()).filteredOn(k -> k.kind().equals("kek"))
                .extracting(KeyRotation.Key::version, KeyRotation.Key::state)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(1, "retired"),
                        org.assertj.core.groups.Tuple.tuple(2, "retired"),
                        org.assertj.core.groups.Tuple.tuple(3, "active"));
        assertThat(status.keys()).filteredOn(k -> k.kind().equals("kek") && k.version() == 2)
                .singleElement().satisfies(k -> assertThat(k.encryptions()).isPositive());
        assertThat(status.keys()).filteredOn(k -> k.kind().equals("dek")).isNotEmpty()
                .allSatisfy(k -> assertThat(k.encryptions()).isPositive());
        assertThat(status.jobs()).isNotEmpty().allSatisfy(job -> assertThat(job.state()).isEqualTo("finished"));
        assertThat(status.keys()).noneMatch(KeyRotation.Key::warning);

        // A key that has done 2^30 encryptions is flagged, in the report and in the text.
        owner().sql("update keyring.key_version set encryptions = ? where kind = 'kek' and version = 3")
                .param(1L << 30).update();
        KeyRotation.Status warned = rotation.status();
        assertThat(warned.keys()).filteredOn(KeyRotation.Key::warning).singleElement()
                .satisfies(k -> assertThat(k.id()).isEqualTo("pkcs11/" + KEY_LABEL + "-v3"));
        String text = KeyStatusReport.text(warned, Instant.now());
        assertThat(text).contains("WARNING").contains("pkcs11/" + KEY_LABEL + "-v3").contains("retired")
                .contains("rewrap-kek");
        // The same as Micrometer gauges, in any registry the key metrics are bound to.
        io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        metrics.bindTo(registry);
        assertThat(registry.get("carapace.keys.encryptions").tags("kind", "kek", "version", "3").gauge().value())
                .isEqualTo((double) (1L << 30));
        assertThat(registry.get("carapace.keys.warning").tags("kind", "kek", "version", "3").gauge().value())
                .isEqualTo(1.0);
        assertThat(registry.get("carapace.keys.warning").tags("kind", "kek", "version", "2").gauge().value())
                .isZero();
        assertThat(registry.get("carapace.keys.encryptions").tags("kind", "dek", "version", "all").gauge().value())
                .isPositive();
        assertThat(registry.get("carapace.keys.age").tags("kind", "index-root", "version", "1").gauge().value())
                .isNotNegative();
        assertThat(registry.getMeters()).allSatisfy(meter -> assertThat(meter.getId().getTags().toString())
                .doesNotContain("Patient/"));
        owner().sql("update keyring.key_version set encryptions = 0 where kind = 'kek' and version = 3").update();
    }

    @Test
    @Order(8)
    void theKekIsRotatedAutomaticallyOnceOlderThanTheMaximumAge() {
        KeyJobs jobs = (KeyJobs) rotation;
        assertThat(jobs.rotateKekIfDue()).as("a fresh KEK is not due").isFalse();
        owner().sql("update keyring.key_version set created_at = now() - interval '89 days' "
                + "where kind = 'kek' and state = 'active'").update();
        scheduler.check();
        assertThat(kek.activeVersionFresh().version()).as("89 days is not yet due").isEqualTo(3);
        owner().sql("update keyring.key_version set created_at = now() - interval '91 days' "
                + "where kind = 'kek' and state = 'active'").update();

        // what the background scheduler does at each check
        scheduler.check();

        assertThat(kek.activeVersionFresh().version()).isEqualTo(4);
        assertThat(owner().sql("select count(*) from ops.key_job where state = 'running'").query(Long.class).single())
                .isZero();
        assertThat(jobs.rotateKekIfDue()).isFalse();
    }

    @Test
    @Order(9)
    void theApplicationRoleMayReplaceOnlyTheCiphertextOfAStoredVersion() throws Exception {
        String url = (String) installation().properties().get("carapace.db.url");
        try (java.sql.Connection phi = java.sql.DriverManager.getConnection(url,
                health.carapace.platform.dev.DevDatabase.PHI_ROLE, "")) {
            phi.setAutoCommit(false);
            try (var statement = phi.createStatement()) {
                // the re-encryption job's one write: allowed (rolled back here)
                assertThat(statement.executeUpdate("update phi.resource_version set ciphertext = ciphertext "
                        + "where resource_type = 'Patient' and version = 1")).isPositive();
            }
            phi.rollback();
            for (String change : List.of("update phi.resource_version set deleted = true",
                    "update phi.resource_version set compartment = 'shared'",
                    "update phi.resource_version set version = version + 1",
                    "update phi.resource_version set resource_id = gen_random_uuid()",
                    "delete from phi.resource_version")) {
                assertThatThrownBy(() -> {
                    try (var statement = phi.createStatement()) {
                        statement.executeUpdate(change);
                    }
                }).as(change).isInstanceOf(java.sql.SQLException.class).hasMessageContaining("permission denied");
                phi.rollback();
            }
        }
    }

    private Map<String, Integer> primaryKeyIdsByCompartment() {
        Map<String, Integer> primary = new HashMap<>();
        // the latest version of each Patient resource was written under the primary key at the time
        owner().sql("""
                select v.compartment, v.ciphertext from phi.resource_version v join phi.resource r
                  on r.resource_type = v.resource_type and r.resource_id = v.resource_id
                 and r.current_version = v.version
                where r.resource_type = 'Patient' and v.ciphertext is not null""")
                .query((rs, n) -> Map.entry(rs.getString(1), rs.getBytes(2))).list()
                .forEach(row -> primary.put(row.getKey(), RecordCipher.keyIdOf(row.getValue())));
        return primary;
    }

    /** Other nodes' keyrings stop checking for shredded keys with the test (their pool is the context's). */
    private final List<PatientKeyring> otherNodes = new java.util.ArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void closeOtherNodes() {
        otherNodes.forEach(PatientKeyring::close);
    }

    private PatientKeyring otherNode() {
        Map<String, Object> p = installation().properties();
        KeyringProperties keyring = new KeyringProperties((String) p.get("carapace.keyring.url"),
                (String) p.get("carapace.keyring.username"), (String) p.get("carapace.keyring.password"),
                (String) p.get("carapace.keyring.owner-username"), (String) p.get("carapace.keyring.owner-password"),
                100, Duration.ofHours(1), Duration.ofHours(1));
        PatientKeyring node = new PatientKeyring(store, kek, new UsageCounters(store), keyring, Duration.ofMillis(500));
        otherNodes.add(node);
        return node;
    }

    private List<String> keyEvents(Instant since) {
        return audit.search(new AuditQueries.Criteria(null, null, since, null, List.of("admin_change"), null, 1000))
                .stream().map(AuditQueries.StoredEvent::resource).toList();
    }
}
