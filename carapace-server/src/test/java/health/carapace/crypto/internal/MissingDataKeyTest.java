package health.carapace.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import health.carapace.crypto.EncryptedRecords;
import health.carapace.crypto.KeyDestroyedException;
import health.carapace.crypto.KeyMissingException;
import health.carapace.crypto.RecordCipher;
import health.carapace.testing.IntegrationTest;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * ADR 0049 (review finding M5): a keyring that holds no data key for a patient with records, and no
 * tombstone saying the patient was shredded (a keyring restored from a backup older than the PHI
 * database), is not a shredding. A read answers 500 "key unavailable", never 410 "destroyed"; one ERROR
 * line names no patient; the re-encryption job stops on it instead of passing the records over.
 */
class MissingDataKeyTest extends IntegrationTest {

    private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*\"([0-9a-f-]{36})\"");

    @Autowired
    private KeyringStore store;

    @Autowired
    private PatientKeyring keyring;

    @Autowired
    private RecordCipher cipher;

    @Autowired
    private EncryptedRecords records;

    private record Row(String keyRef, String kekId, byte[] wrapped) {}

    @Test
    void aKeyMissingWithoutATombstoneIsUnavailableNotShreddedAndStopsTheReencryption() throws Exception {
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Keyless\"}]}")));
        assertThat(created.statusCode()).isEqualTo(201);
        Matcher id = ID.matcher(created.body());
        assertThat(id.find()).isTrue();
        String patient = id.group(1);
        String compartment = "Patient/" + patient;
        String keyRef = KeyringStore.DEK_PREFIX + compartment;

        // The keyring "older than the records": the row is gone, and no tombstone was ever written.
        JdbcClient keyringDb = JdbcClient.create(store.pool());
        Row saved = keyringDb.sql("select key_ref, kek_id, wrapped from keyring.wrapped_key where key_ref = ?")
                .param(keyRef).query((rs, n) -> new Row(rs.getString(1), rs.getString(2), rs.getBytes(3))).single();
        Logger sanitiser = (Logger) LoggerFactory.getLogger("health.carapace.records.internal.ErrorSanitiser");
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        sanitiser.addAppender(logged);
        try {
            assertThat(keyringDb.sql("delete from keyring.wrapped_key where key_ref = ?").param(keyRef).update())
                    .isEqualTo(1);
            keyring.invalidateAll();
            assertThat(keyring.isShredded(compartment)).isFalse();

            HttpResponse<String> read = send(HttpRequest.newBuilder(uri("/fhir/Patient/" + patient)).GET());
            assertThat(read.statusCode()).as("not 410: nothing says the record was erased").isEqualTo(500);
            assertThat(read.body()).contains("OperationOutcome").contains("unavailable").contains("not erased")
                    .doesNotContain("crypto-shredding").doesNotContain(patient);
            List<ILoggingEvent> errors = logged.list.stream().filter(e -> e.getLevel() == Level.ERROR).toList();
            assertThat(errors).hasSize(1);
            assertThat(errors.get(0).getFormattedMessage()).contains("missing from the keyring").doesNotContain(patient);
            assertThat(errors.get(0).getThrowableProxy()).isNull();

            assertThatThrownBy(() -> cipher.decrypt(compartment, new byte[] {1, 0, 0, 0, 1, 0}, new byte[0]))
                    .isInstanceOf(KeyMissingException.class).isNotInstanceOf(KeyDestroyedException.class)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain(patient));
            // The DEK job's re-encryption of the compartment does not pass its records over as shredded.
            assertThatThrownBy(() -> records.reencrypt(compartment, null, 10))
                    .isInstanceOf(KeyMissingException.class);
        } finally {
            sanitiser.detachAppender(logged);
            // The right keyring restored: the patient reads again (and other tests' jobs find the key).
            keyringDb.sql("insert into keyring.wrapped_key (key_ref, kek_id, wrapped) values (?, ?, ?)")
                    .params(saved.keyRef(), saved.kekId(), saved.wrapped()).update();
            keyring.invalidateAll();
        }
        assertThat(send(HttpRequest.newBuilder(uri("/fhir/Patient/" + patient)).GET()).statusCode()).isEqualTo(200);
    }

    @Autowired
    private health.carapace.access.BreakGlass breakGlass;

    /**
     * s9 review L-7: one patient's data key missing must not take the whole review of emergency accesses
     * with it (it was a 500): that grant is listed, its reason marked unavailable (not shredded), and every
     * other grant's reason still reads.
     */
    @Test
    void aMissingKeyMarksOnlyThatGrantsReasonUnavailableInTheBreakGlassReview() throws Exception {
        String keyless = "Patient/" + createPatient("Keylessglass");
        String kept = "Patient/" + createPatient("Keptglass");
        health.carapace.access.Caller clinician = new health.carapace.access.Caller("missing-key-clinician",
                health.carapace.access.Caller.Kind.USER, java.util.Set.of(), null);
        java.time.Instant since = java.time.Instant.now().minusSeconds(5);
        java.util.UUID lost = breakGlass.open(clinician, keyless, "Reason one", health.carapace.audit.AuditContext.none())
                .id();
        java.util.UUID readable = breakGlass.open(clinician, kept, "Reason two", health.carapace.audit.AuditContext.none())
                .id();
        String keyRef = KeyringStore.DEK_PREFIX + keyless;
        JdbcClient keyringDb = JdbcClient.create(store.pool());
        Row saved = keyringDb.sql("select key_ref, kek_id, wrapped from keyring.wrapped_key where key_ref = ?")
                .param(keyRef).query((rs, n) -> new Row(rs.getString(1), rs.getString(2), rs.getBytes(3))).single();
        try {
            assertThat(keyringDb.sql("delete from keyring.wrapped_key where key_ref = ?").param(keyRef).update())
                    .isEqualTo(1);
            keyring.invalidateAll();
            List<health.carapace.access.BreakGlass.Review> review = breakGlass.review(since);
            assertThat(review).filteredOn(r -> r.grantId().equals(lost)).singleElement().satisfies(r -> {
                assertThat(r.reason()).isNull();
                assertThat(r.reasonKeyMissing()).isTrue();
            });
            assertThat(review).filteredOn(r -> r.grantId().equals(readable)).singleElement().satisfies(r -> {
                assertThat(r.reason()).isEqualTo("Reason two");
                assertThat(r.reasonKeyMissing()).isFalse();
            });
        } finally {
            keyringDb.sql("insert into keyring.wrapped_key (key_ref, kek_id, wrapped) values (?, ?, ?)")
                    .params(saved.keyRef(), saved.kekId(), saved.wrapped()).update();
            keyring.invalidateAll();
        }
    }

    private String createPatient(String family) {
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/fhir/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}")));
        assertThat(created.statusCode()).isEqualTo(201);
        Matcher id = ID.matcher(created.body());
        assertThat(id.find()).isTrue();
        return id.group(1);
    }
}
