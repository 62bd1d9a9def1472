package health.carapace.export.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import health.carapace.testing.TestPolicy;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A node died in the middle of an export: the job is still "running" with a stale heartbeat, part
 * 1 committed up to a cursor, and a part 2 half written on disk but never committed. The worker
 * takes the job over, deletes the uncommitted file, continues after the cursor (the patient at the
 * cursor is not exported again) and completes.
 */
class ExportResumesAfterRestartTest extends IntegrationTest {

    @Autowired
    private ExportKeys keys;

    @Autowired
    private ExportJobs jobs;

    @Test
    void aRunningJobWhoseNodeDiedIsTakenOverAndContinuesAfterItsCursor() throws Exception {
        String clientId = serviceClients.createBackend("resume", Set.of(TestPolicy.EVERYTHING), List.of("system/*.rs"),
                new JWKSet(new ECKeyGenerator(Curve.P_384).generate().toPublicJWK()).toString(), null);
        Instant since = Instant.now().minusSeconds(1);
        List<String> patients = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Patient patient = new Patient();
            patient.addName().setFamily("Resume" + UUID.randomUUID().toString().replace("-", ""));
            patients.add("Patient/" + fhirClient().create().resource(patient).execute().getId().getIdPart());
        }
        Collections.sort(patients);
        UUID id = UUID.randomUUID();
        JdbcClient.create(dataSource).sql("""
                insert into export.job (id, client_id, app_scope, client_address, level, types, since, request_url, status,
                  wrapped_key, kek_id, cursor_patient, part, patients_done, heartbeat_at, created_at)
                values (?, ?, ?, '127.0.0.1', 'system', ?, ?, 'https://localhost/fhir/$export', 'running', ?, ?, ?, 1, 1, ?, ?)""")
                .params(id, clientId, new String[] {"system/*.rs"}, new String[] {"Patient"}, Timestamp.from(since),
                        keys.newWrappedKey(id), keys.kekId(), patients.get(0),
                        Timestamp.from(Instant.now().minus(Duration.ofHours(1))), Timestamp.from(Instant.now()))
                .update();
        Path dir = TestInstallation.dataDir().resolve("exports").resolve(id.toString());
        Files.createDirectories(dir);
        Path halfWritten = dir.resolve(ExportFiles.name(2, "Patient"));
        try (OutputStream out = Files.newOutputStream(halfWritten)) {
            out.write("not ciphertext of this export".getBytes());
        }

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> jobs.find(id).orElseThrow().status() == ExportJobs.Status.COMPLETE);

        List<ExportJobs.OutputFile> files = jobs.files(id);
        assertThat(files).isNotEmpty().allMatch(f -> f.part() >= 2);
        // The part 2 on disk is the one written after the takeover: it opens under the export's key.
        byte[] ciphertext = Files.readAllBytes(halfWritten);
        assertThat(new String(ciphertext)).doesNotContain("not ciphertext of this export");
        String plaintext;
        try (var in = keys.open(id, jobs.find(id).orElseThrow().wrappedKey()).newDecryptingStream(
                Files.newInputStream(halfWritten), ExportKeys.fileAssociatedData(id, halfWritten.getFileName().toString()))) {
            plaintext = new String(in.readAllBytes());
        }
        String after = patients.get(1).substring("Patient/".length());
        String atCursor = patients.get(0).substring("Patient/".length());
        assertThat(plaintext).contains("\"id\":\"" + after + "\"").doesNotContain("\"id\":\"" + atCursor + "\"");
    }
}
