package health.carapace.crypto.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.CarapaceApplication;
import health.carapace.access.BreakGlass;
import health.carapace.access.Caller;
import health.carapace.audit.AuditContext;
import health.carapace.crypto.KeyDestroyedException;
import health.carapace.crypto.KeyRotation;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.signin.ServiceClients;
import health.carapace.testing.TestInstallation;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Crypto-shredding and key rotation together (ADR 0010, 0011): a patient shredded through the
 * dual-control API stays shredded through DEK, KEK and blind-index key rotation. No key is made
 * for them again (not by the jobs, not by a write, not by the keyring itself), their stored
 * ciphertexts are left as they were, their reads keep answering 410, key status does not list
 * their keys, and the re-index writes no token for them; everyone else's records still read.
 * A second patient is caught between the approval's commit (the records' tombstone) and the
 * keyring deletion, as a crash or another node's cache would leave it: its key still exists and is
 * cached here, and the jobs must still neither re-encrypt nor re-index its records.
 */
@SpringBootTest(classes = CarapaceApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext
class ShreddingAcrossRotationTest extends RotationServer {

    private static DevEnvironment installation;

    @Autowired
    KeyRotation rotation;

    @Autowired
    PatientKeyring deks;

    @Autowired
    KeyringStore store;

    @Autowired
    KekRing kek;

    @Autowired
    KeyringAlgorithms algorithms;

    @Autowired
    BreakGlass breakGlass;

    @DynamicPropertySource
    static void ownDatabase(DynamicPropertyRegistry registry) {
        Map<String, Object> properties = new LinkedHashMap<>(installation0().properties());
        // Short settle waits; small batches so that every job takes several steps.
        properties.put("carapace.keys.refresh-interval", "PT0.3S");
        properties.put("carapace.keys.batch-size", "7");
        properties.put("carapace.keys.reencrypt-rate", "0");
        properties.forEach((key, value) -> registry.add(key, () -> value));
    }

    private static synchronized DevEnvironment installation0() {
        if (installation == null) {
            installation = TestInstallation.separate("shredding-across-rotation");
        }
        return installation;
    }

    @Override
    DevEnvironment installation() {
        return installation0();
    }

    @Test
    void aShreddedPatientStaysShreddedAcrossDekKekAndIndexKeyRotation() throws Exception {
        List<String> ids = createPatients(fhirClient(), 20);
        String victim = ids.get(3);
        String compartment = "Patient/" + victim;
        String keyRef = "dek/" + compartment;
        String observation = owner().sql("""
                select resource_id::text from phi.resource where resource_type = 'Observation' and compartment = ?""")
                .param(compartment).query(String.class).single();
        String bearer = readerToken();
        assertThat(get(bearer, "/fhir/Patient/" + victim).statusCode()).isEqualTo(200);
        rotation.status(); // flushes the usage counters: the victim's key now has its dek_key row
        assertThat(dekKeyRows(keyRef)).as("the per-key rows shredding must remove").isPositive();
        assertThat(tokens(victim)).isPositive();
        String halfway = ids.get(5);
        // Break-glass reasons under both patients' keys: shredded with them, so rotation leaves them alone too.
        Caller clinician = new Caller("shred-glass", Caller.Kind.USER, Set.of("clinician"), null);
        AuditContext context = new AuditContext("127.0.0.1", null, null);
        UUID victimGrant = breakGlass.open(clinician, compartment, "Emergency before disposal", context).id();
        UUID halfwayGrant = breakGlass.open(clinician, "Patient/" + halfway, "Emergency before disposal", context).id();
        Map<UUID, byte[]> reasons = Map.of(victimGrant, reason(victimGrant), halfwayGrant, reason(halfwayGrant));
        assertThat(get(bearer, "/fhir/Patient/" + halfway).statusCode()).isEqualTo(200); // its key is cached now
        try (var c = java.sql.DriverManager.getConnection((String) installation().properties().get("carapace.db.url"),
                health.carapace.platform.dev.DevDatabase.OWNER, "")) {
            c.createStatement().executeUpdate("insert into phi.shredded_compartment values ('Patient/" + halfway
                    + "', '" + UUID.randomUUID() + "', now(), 'a', 'b')");
        }
        Map<String, byte[]> halfwayCiphertexts = ciphertexts("Patient/" + halfway);

        // Dual control through the admin API: two different clients holding the admin role (manage:keys).
        String requester = adminToken("keys-admin-1");
        String approver = adminToken("keys-admin-2");
        HttpResponse<String> requested = post(requester, "/admin/keys/shredding",
                "{\"patient\":\"" + victim + "\",\"reason\":\"RET-ROT-1\"}");
        assertThat(requested.statusCode()).isEqualTo(201);
        Matcher id = Pattern.compile("\"id\":\"([0-9a-f-]{36})\"").matcher(requested.body());
        assertThat(id.find()).isTrue();
        assertThat(post(approver, "/admin/keys/shredding/" + id.group(1) + "/approve", "").statusCode())
                .isEqualTo(200);
        assertThat(store.find(keyRef)).isEmpty();
        assertThat(dekKeyRows(keyRef)).as("shredding deletes rotation's per-key rows too").isZero();
        Map<String, byte[]> ciphertexts = ciphertexts(compartment);
        assertThat(ciphertexts).hasSize(2);

        // Every kind of rotation, over everybody and over the victim alone.
        rotation.rotateDeks("test:shredding", null);
        assertThat(rotation.runJobs()).isTrue();
        rotation.rotateKek("test:shredding");
        assertThat(rotation.runJobs()).isTrue();
        rotation.rotateIndexKeys("test:shredding");
        assertThat(rotation.runJobs()).isTrue();
        rotation.rotateDeks("test:shredding", UUID.fromString(victim));
        assertThat(rotation.runJobs()).isTrue();
        assertThat(owner().sql("select count(*) from ops.key_job where state <> 'finished'").query(Long.class).single())
                .as("the jobs skip the shredded patient instead of failing").isZero();

        // Nothing brought the victim's keys back.
        assertThat(store.find(keyRef)).isEmpty();
        assertThat(dekKeyRows(keyRef)).isZero();
        assertThat(store.isShredded(compartment)).isTrue();
        assertThat(ciphertexts(compartment)).as("re-encryption leaves a shredded patient's ciphertexts alone")
                .allSatisfy((key, bytes) -> assertThat(bytes).isEqualTo(ciphertexts.get(key)));
        assertThat(tokens(victim)).as("the re-index writes no token for a shredded patient").isZero();
        assertThat(store.find("dek/Patient/" + halfway)).as("the keyring deletion is still due").isPresent();
        assertThat(ciphertexts("Patient/" + halfway)).as("not re-encrypted with the key it still has")
                .hasSize(2).allSatisfy((key, bytes) -> assertThat(bytes).isEqualTo(halfwayCiphertexts.get(key)));
        assertThat(tokens(halfway)).as("not re-indexed from the key still cached here").isZero();
        assertThat(reasons).as("break-glass reasons of shredded patients are not re-encrypted either")
                .allSatisfy((grant, bytes) -> assertThat(reason(grant)).isEqualTo(bytes));
        // The review of emergency accesses still works, listing their grants without the reasons
        // (keys deleted for the victim; tombstone only, key still cached, for halfway).
        assertThat(breakGlass.review(java.time.Instant.EPOCH))
                .filteredOn(review -> review.principal().equals(clinician.principal()))
                .extracting(BreakGlass.Review::grantId, BreakGlass.Review::reason)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple(victimGrant, null),
                        org.assertj.core.groups.Tuple.tuple(halfwayGrant, null));
        assertThat(get(bearer, "/fhir/Patient/" + halfway).statusCode()).isEqualTo(410);
        // The other keysets were rotated (KEK v2 wraps them all) and everybody else still reads.
        assertThat(owner().sql("select distinct kek_id from keyring.wrapped_key").query(String.class).list())
                .containsExactly("dev-keystore/kek-2");
        for (String other : ids) {
            if (!other.equals(victim) && !other.equals(halfway)) {
                assertThat(get(bearer, "/fhir/Patient/" + other).statusCode()).isEqualTo(200);
            }
        }

        // Reads stay 410, and a write into the compartment neither succeeds nor makes a key.
        assertThat(get(bearer, "/fhir/Patient/" + victim).statusCode()).isEqualTo(410);
        assertThat(get(bearer, "/fhir/Observation/" + observation).statusCode()).isEqualTo(410);
        assertThat(post(bearer, "/fhir/Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\","
                + "\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/" + victim + "\"}}").statusCode())
                .isEqualTo(410);
        // Below the record path too: the keyring itself refuses to make a key for the patient.
        assertThatThrownBy(() -> deks.encrypt(compartment, new byte[1], new byte[0]))
                .isInstanceOf(KeyDestroyedException.class);
        assertThat(store.find(keyRef)).isEmpty();

        // Key status lists none of the victim's keys (and the summary counts only live keysets).
        KeyRotation.Status status = rotation.status();
        assertThat(status.keys()).noneSatisfy(k -> assertThat(k.id()).contains(victim));
        assertThat(store.liveDekKeys(Integer.MAX_VALUE)).extracting(KeyringStore.DekKey::keyRef)
                .isNotEmpty().doesNotContain(keyRef);
        assertThat(dekKeyRows(keyRef)).isZero();
        long keysets = owner().sql("select count(*) from keyring.wrapped_key where key_ref like 'dek/%'")
                .query(Long.class).single();
        assertThat(status.keys()).filteredOn(k -> k.kind().equals("dek-summary")).singleElement()
                .satisfies(k -> assertThat(k.id()).startsWith(keysets + " keysets"));

        // The algorithm inventory (startup check) judges every usable KEK version by its own size:
        // while a rotation is under way the decrypt-only version is listed beside the active one.
        kek.rotate();
        List<health.carapace.platform.config.AlgorithmUse> inventory = algorithms.algorithmsInUse();
        assertThat(inventory).filteredOn(use -> use.kind() == health.carapace.platform.config.AlgorithmUse.Kind.KEY_WRAP)
                .extracting(use -> use.detail().split(" ")[0], health.carapace.platform.config.AlgorithmUse::bits)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("dev-keystore/kek-2", 256),
                        org.assertj.core.groups.Tuple.tuple("dev-keystore/kek-3", 256));
        assertThat(inventory).filteredOn(use -> use.component().equals(TinkBlindIndex.COMPONENT))
                .as("the active index root key version (the first one is retired)").hasSize(1);
        health.carapace.platform.config.AlgorithmHygiene.check(inventory);
    }

    // --- helpers -------------------------------------------------------------------------------

    private byte[] reason(UUID grantId) {
        return owner().sql("select reason from iam.break_glass where grant_id = ?").param(grantId)
                .query(byte[].class).single();
    }

    private long dekKeyRows(String keyRef) {
        return owner().sql("select count(*) from keyring.dek_key where key_ref = ?").param(keyRef)
                .query(Long.class).single();
    }

    private long tokens(String patient) {
        return owner().sql("""
                select count(*) from phi_index.token t join phi.resource r
                  on r.resource_type = t.resource_type and r.resource_id = t.resource_id
                where r.compartment = ?""").param("Patient/" + patient).query(Long.class).single();
    }

    private Map<String, byte[]> ciphertexts(String compartment) {
        Map<String, byte[]> all = new LinkedHashMap<>();
        owner().sql("""
                select resource_type || '/' || resource_id || '/' || version, ciphertext from phi.resource_version
                where compartment = ? order by 1""").param(compartment)
                .query((rs, n) -> all.put(rs.getString(1), rs.getBytes(2))).list();
        return all;
    }

    private HttpClient http() {
        return HttpClient.newBuilder().sslContext(TestInstallation.trustingSslContext(installation().dataDir())).build();
    }

    private String readerToken() throws Exception {
        return tokenFor(serviceClients.create("shredding-rotation-reader-" + UUID.randomUUID(), Set.of("records-service")));
    }

    private String adminToken(String name) throws Exception {
        // manage:keys comes with the policy directory's admin role (dev policy: admin.json).
        return tokenFor(serviceClients.create(name, Set.of("admin")));
    }

    private String tokenFor(ServiceClients.Credentials client) throws Exception {
        String basic = Base64.getEncoder().encodeToString((client.clientId() + ":" + client.clientSecret()).getBytes(UTF_8));
        HttpResponse<String> token = http().send(HttpRequest.newBuilder(uri("/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(token.statusCode()).isEqualTo(200);
        Matcher m = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"").matcher(token.body());
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    private URI uri(String path) {
        return URI.create("https://localhost:" + port + path);
    }

    private HttpResponse<String> get(String bearer, String path) throws Exception {
        return http().send(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + bearer).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String bearer, String path, String body) throws Exception {
        return http().send(HttpRequest.newBuilder(uri(path))
                .header("Authorization", "Bearer " + bearer)
                .header("Content-Type", path.startsWith("/fhir") ? "application/fhir+json" : "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
