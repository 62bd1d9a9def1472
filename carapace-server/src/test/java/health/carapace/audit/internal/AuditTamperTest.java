package health.carapace.audit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.CarapaceApplication;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditExporter;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditVerifier;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.testing.TestInstallation;
import health.carapace.verify.BundleReport;
import health.carapace.verify.BundleVerificationException;
import health.carapace.verify.BundleVerifier;
import health.carapace.verify.Ed25519TreeHeadSigner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Someone with superuser access to the database rewrites the audit trail (triggers off, as a
 * superuser can): each kind of edit is caught by {@code audit verify}, naming the first bad entry.
 * Runs on a cluster of its own, because it tampers.
 */
@SpringBootTest(classes = CarapaceApplication.class, webEnvironment = SpringBootTest.WebEnvironment.NONE)
@DirtiesContext
class AuditTamperTest {

    private static DevEnvironment installation;

    @Autowired
    AuditTrail trail;

    @Autowired
    TreeSealer sealer;

    @Autowired
    WitnessDirectory witness;

    @Autowired
    AuditVerifier verifier;

    @Autowired
    AuditExporter exporter;

    @Autowired
    Ed25519TreeHeadSigner signer;

    @DynamicPropertySource
    static void ownDatabase(DynamicPropertyRegistry registry) {
        installation().properties().forEach((key, value) -> registry.add(key, () -> value));
    }

    private static synchronized DevEnvironment installation() {
        if (installation == null) {
            installation = TestInstallation.separate("audit-tamper");
        }
        return installation;
    }

    @BeforeEach
    void sealedTrail() {
        if (verifier.verify().eventsChecked() > 0) {
            return;
        }
        recordAndSeal(50);
        recordAndSeal(10);
    }

    @Test
    void anIntactTrailVerifies() {
        AuditVerifier.Report report = verifier.verify();
        assertThat(report.ok()).as(report.firstProblem()).isTrue();
        assertThat(report.eventsChecked()).isEqualTo(60);
        assertThat(report.headsChecked()).isEqualTo(2);
    }

    @Test
    void anExportVerifiesOfflineTrustingOnlyThePublicKey(@TempDir Path temp) throws Exception {
        AuditExporter.Export export = exporter.export(Instant.EPOCH, Instant.now().plusSeconds(3600), temp.resolve("bundle"));
        assertThat(export.firstLeaf()).isZero();
        assertThat(export.endLeaf()).isEqualTo(60);
        BundleReport report = BundleVerifier.trusting(signer.verifier()).verify(export.directory());
        assertThat(report.events()).isEqualTo(60);

        Path events = export.directory().resolve("events.jsonl");
        java.util.List<String> lines = new ArrayList<>(Files.readAllLines(events));
        lines.set(5, lines.get(5).replaceFirst("\"leaf\":\"(.)", "\"leaf\":\"A"));
        Files.write(events, lines);
        assertThatThrownBy(() -> BundleVerifier.trusting(signer.verifier()).verify(export.directory()))
                .isInstanceOf(BundleVerificationException.class);
    }

    @Test
    void anEditedEventBodyIsCaught() throws SQLException {
        tamper("update audit.event set body = convert_to(replace(convert_from(body, 'UTF8'), 'viewed', 'deleted'), 'UTF8') "
                        + "where id = (select event_id from audit.leaf where leaf_index = 7)",
                "update audit.event set body = convert_to(replace(convert_from(body, 'UTF8'), 'deleted', 'viewed'), 'UTF8') "
                        + "where id = (select event_id from audit.leaf where leaf_index = 7)",
                "leaf 7: the event body does not match its leaf hash");
    }

    @Test
    void anEditedQueryColumnIsCaught() throws SQLException {
        tamper("update audit.event set actor = 'someone-else' where id = (select event_id from audit.leaf where leaf_index = 12)",
                "update audit.event set actor = 'tamper-test' where id = (select event_id from audit.leaf where leaf_index = 12)",
                "leaf 12: column actor does not match");
    }

    @Test
    void aDeletedEventIsCaught() throws SQLException {
        tamper("create table public.saved as select * from audit.event where id = (select event_id from audit.leaf where leaf_index = 3);"
                        + "delete from audit.event where id = (select id from public.saved)",
                "insert into audit.event overriding system value select * from public.saved; drop table public.saved",
                "leaf 3: its event is missing");
    }

    @Test
    void reorderedEventsAreCaught() throws SQLException {
        String swap = "update audit.leaf set leaf_index = case leaf_index when 4 then -5 when 5 then -4 end where leaf_index in (4, 5);"
                + "update audit.leaf set leaf_index = -leaf_index where leaf_index < 0";
        tamper(swap, swap, "tree head of size 50: its root does not match the leaves");
    }

    @Test
    void aForgedTreeHeadIsCaught() throws SQLException {
        tamper("create table public.saved_head as select * from audit.tree_head where tree_size = 60;"
                        + "update audit.tree_head set signed_at = signed_at + interval '1 second' where tree_size = 60",
                "delete from audit.tree_head where tree_size = 60; insert into audit.tree_head select * from public.saved_head;"
                        + "drop table public.saved_head",
                "tree head of size 60: its signature is not valid");
    }

    @Test
    void aLogRolledBackBehindItsWitnessIsCaught() throws SQLException {
        tamper("create table public.saved_head as select * from audit.tree_head where tree_size = 60;"
                        + "create table public.saved_leaf as select * from audit.leaf where leaf_index >= 50;"
                        + "delete from audit.tree_head where tree_size = 60; delete from audit.leaf where leaf_index >= 50;"
                        + "create table public.saved_event as select * from audit.event where id in (select event_id from public.saved_leaf);"
                        + "delete from audit.event where id in (select event_id from public.saved_leaf)",
                "insert into audit.event overriding system value select * from public.saved_event;"
                        + "insert into audit.leaf select * from public.saved_leaf; insert into audit.tree_head select * from public.saved_head;"
                        + "drop table public.saved_head, public.saved_leaf, public.saved_event",
                "witnessed tree head of size 60 is not in the database");
    }

    @Test
    void anEventSlippedInWithoutALeafIsCaught() throws SQLException {
        tamper("insert into audit.event (event_id, recorded_at, actor, action, outcome, patient, body) "
                        + "values (gen_random_uuid(), now() - interval '1 hour', 'x', 'viewed', 'success', null, 'x')",
                "delete from audit.event where actor = 'x'",
                "events older than 5 minutes are in no leaf");
    }

    private void tamper(String change, String undo, String expectedProblem) throws SQLException {
        assertThat(verifier.verify().ok()).as("the trail is intact before tampering").isTrue();
        asSuperuser(change);
        try {
            AuditVerifier.Report report = verifier.verify();
            assertThat(report.ok()).isFalse();
            assertThat(report.firstProblem()).contains(expectedProblem);
        } finally {
            asSuperuser(undo);
        }
        AuditVerifier.Report restored = verifier.verify();
        assertThat(restored.ok()).as(restored.firstProblem()).isTrue();
    }

    private void recordAndSeal(int events) {
        List<AuditEvent> batch = new ArrayList<>();
        for (int i = 0; i < events; i++) {
            batch.add(new AuditEvent(UUID.randomUUID(), Instant.now(), "tamper-test", AuditAction.VIEWED,
                    "/fhir/Patient/" + UUID.randomUUID(), AuditContext.none(), true, "Patient/" + UUID.randomUUID(),
                    null, null, false, null));
        }
        trail.record(batch);
        witness.append(sealer.sealOnce().orElseThrow().head());
    }

    private static void asSuperuser(String sql) throws SQLException {
        String url = installation().properties().get("carapace.db.url").toString();
        try (Connection c = DriverManager.getConnection(url, DevDatabase.OWNER, ""); Statement s = c.createStatement()) {
            // what a superuser can do: switch the append-only triggers off for this session
            s.execute("set session_replication_role = replica");
            s.execute(sql);
        }
    }
}
