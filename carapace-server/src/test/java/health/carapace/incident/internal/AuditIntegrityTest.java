package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditIntegrity;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditVerifier;
import health.carapace.incident.Incident;
import health.carapace.incident.IncidentState;
import health.carapace.incident.Incidents;
import health.carapace.incident.Severity;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.TestInstallation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * {@code audit-integrity}, each case provoked for real and undone afterwards so that the trail
 * verifies again: an event rewritten by a superuser (the failed verification opens a critical
 * incident through the running server's own watch), the sealer held back by someone else holding
 * its advisory lock, and the witness file made unwritable. On an installation of its own: breaking
 * the shared trail on purpose failed other tests' verifications, and theirs failed this one's.
 */
@org.springframework.boot.test.context.SpringBootTest(classes = health.carapace.CarapaceApplication.class,
        webEnvironment = org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT)
@org.springframework.test.annotation.DirtiesContext
class AuditIntegrityTest {

    @Autowired
    javax.sql.DataSource dataSource;

    private static health.carapace.platform.dev.DevEnvironment installation;

    @org.springframework.test.context.DynamicPropertySource
    static void ownInstallation(org.springframework.test.context.DynamicPropertyRegistry registry) {
        installation = TestInstallation.separate("audit-integrity");
        installation.properties().forEach((key, value) -> registry.add(key, () -> value));
    }

    @org.junit.jupiter.api.BeforeEach
    void onItsOwnInstallation() {
        assertThat(environment.getProperty("carapace.db.url")).isEqualTo(installation.properties().get("carapace.db.url"))
                .isNotEqualTo(TestInstallation.properties().get("carapace.db.url"));
    }

    /** The sealer's advisory lock ({@code TreeSealer.SEALER_LOCK}): whoever holds it stops the sealer. */
    private static final long SEALER_LOCK = 0x4341524150414345L ^ 1;

    @Autowired
    AuditTrail trail;

    @Autowired
    AuditVerifier verifier;

    @Autowired
    AuditIntegrity integrity;

    @Autowired
    Incidents incidents;

    @Autowired
    Environment environment;

    /** The watch with short thresholds, so the test does not wait minutes. */
    private AuditIntegrityWatch quickWatch() {
        return new AuditIntegrityWatch(integrity, Duration.ofSeconds(2), Duration.ofSeconds(2));
    }

    private List<String> problems() {
        return quickWatch().check(Instant.now()).stream().map(Detection::detail).toList();
    }

    @Test
    void aFailedVerificationOpensACriticalIncidentAndAHealthyTrailNone() throws Exception {
        UUID eventId = recordAndAwaitSealed("integrity-test");
        assertThat(verifier.verify().ok()).isTrue();
        assertThat(problems()).as("a healthy trail").isEmpty();
        try {
            asSuperuser("update audit.event set actor = 'forged' where event_id = '" + eventId + "'");
            assertThat(verifier.verify().ok()).isFalse();
            assertThat(problems()).containsExactly("verification-failed");
            // the running server's own watch (default settings) opens the incident
            Incident opened = await().atMost(Duration.ofSeconds(60)).until(() -> incidents.list(
                    new Incidents.Filter(IncidentState.OPEN, null, AuditIntegrityWatch.CODE, null, null, null, 10)),
                    found -> !found.isEmpty()).get(0);
            assertThat(opened.severity()).isEqualTo(Severity.CRITICAL);
            assertThat(opened.principal()).isEqualTo(AuditIntegrityWatch.SUBJECT);
            assertThat(incidents.find(opened.id()).orElseThrow().timeline())
                    .anySatisfy(entry -> assertThat(entry.detail()).isEqualTo("verification-failed"));
        } finally {
            asSuperuser("update audit.event set actor = 'integrity-test' where event_id = '" + eventId + "'");
        }
        assertThat(verifier.verify().ok()).isTrue();
        assertThat(problems()).isEmpty();
        for (Incident open : incidents.list(new Incidents.Filter(IncidentState.OPEN, null, AuditIntegrityWatch.CODE,
                null, null, null, 10))) {
            incidents.close(open.id(), IncidentState.CLOSED, "resolved", "integrity-test");
        }
    }

    @Test
    void aSealerHeldBackBeyondTheStallTimeIsCritical() throws Exception {
        String url = installation.properties().get("carapace.db.url").toString();
        try (Connection holder = DriverManager.getConnection(url, DevDatabase.OWNER, "");
                Statement s = holder.createStatement()) {
            s.execute("select pg_advisory_lock(" + SEALER_LOCK + ")");
            try {
                recordEvent("stall-test");
                await().atMost(Duration.ofSeconds(30)).until(() -> problems().contains("sealer-stalled"));
            } finally {
                s.execute("select pg_advisory_unlock(" + SEALER_LOCK + ")");
            }
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> !problems().contains("sealer-stalled"));
    }

    @Test
    void aTreeHeadThatNeverReachesTheWitnessDirectoryIsCritical() throws Exception {
        Path file = Path.of(environment.getProperty("carapace.audit.witness-dir")).resolve("tree-heads.jsonl");
        Path aside = file.resolveSibling("tree-heads.jsonl.aside");
        recordAndAwaitSealed("witness-test");
        await().atMost(Duration.ofSeconds(30)).until(() -> !problems().contains("witness-missing"));
        Files.move(file, aside);
        Files.createDirectory(file); // the sealer's append now fails, as on a full or read-only disk
        try {
            recordAndAwaitSealed("witness-test");
            await().atMost(Duration.ofSeconds(30)).until(() -> problems().contains("witness-missing"));
        } finally {
            Files.delete(file);
            Files.move(aside, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        recordAndAwaitSealed("witness-test");
        await().atMost(Duration.ofSeconds(30)).until(() -> !problems().contains("witness-missing"));
    }

    private UUID recordEvent(String actor) {
        UUID eventId = UUID.randomUUID();
        trail.record(List.of(new AuditEvent(eventId, Instant.now(), actor, AuditAction.VIEWED,
                "/fhir/Patient/" + UUID.randomUUID(), AuditContext.none(), true, null, null, null, false, null)));
        return eventId;
    }

    private UUID recordAndAwaitSealed(String actor) {
        UUID eventId = recordEvent(actor);
        JdbcClient jdbc = JdbcClient.create(dataSource);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.sql(
                "select count(*) from audit.leaf l join audit.event e on e.id = l.event_id where e.event_id = ?")
                .param(eventId).query(Long.class).single() == 1);
        return eventId;
    }

    private static void asSuperuser(String sql) throws Exception {
        String url = installation.properties().get("carapace.db.url").toString();
        try (Connection c = DriverManager.getConnection(url, DevDatabase.OWNER, ""); Statement s = c.createStatement()) {
            s.execute("set session_replication_role = replica");
            s.execute(sql);
        }
    }
}
