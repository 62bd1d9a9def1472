package health.carapace.audit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditVerifier;
import health.carapace.compliance.CheckResult;
import health.carapace.platform.dev.DevDatabase;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.TestInstallation;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The audit verification check reads the recorded result of the last full verification: it
 * passes after a clean run, fails when that run is stale, and fails after a run that found an
 * event rewritten by a superuser (triggers off), then passes again once the edit is undone.
 */
class AuditVerificationCheckTest extends IntegrationTest {

    @Autowired
    AuditTrail trail;

    @Autowired
    AuditVerifier verifier;

    @Autowired
    AuditVerificationCheck check;

    @Autowired
    AuditHealthMetrics metrics;

    @Test
    void passesAfterACleanRunFailsWhenStaleAndAfterATamperedRun() throws Exception {
        UUID eventId = UUID.randomUUID();
        trail.record(List.of(new AuditEvent(eventId, Instant.now(), "verification-check-test", AuditAction.VIEWED,
                "/fhir/Patient/" + UUID.randomUUID(), AuditContext.none(), true, null, null, null, false, null)));
        JdbcClient jdbc = JdbcClient.create(dataSource);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.sql(
                "select count(*) from audit.leaf l join audit.event e on e.id = l.event_id where e.event_id = ?")
                .param(eventId).query(Long.class).single() == 1);

        assertThat(verifier.verify().ok()).isTrue();
        CheckResult clean = check.evaluate(Instant.now());
        CheckResult stale = check.evaluate(Instant.now().plus(Duration.ofHours(49)));
        CheckResult tampered;
        try {
            asSuperuser("update audit.event set actor = 'forged' where event_id = '" + eventId + "'");
            assertThat(verifier.verify().ok()).isFalse();
            tampered = check.evaluate(Instant.now());
            metrics.refreshBeforeScrape();
        } finally {
            asSuperuser("update audit.event set actor = 'verification-check-test' where event_id = '" + eventId + "'");
        }
        assertThat(verifier.verify().ok()).isTrue();
        CheckResult restored = check.evaluate(Instant.now());

        assertThat(clean.status()).as(clean.toString()).isEqualTo(CheckResult.Status.PASS);
        assertThat(clean.evidence().get("result")).isEqualTo("intact");
        assertThat(stale.status()).isEqualTo(CheckResult.Status.FAIL);
        assertThat(stale.reason()).contains("older than");
        assertThat(tampered.status()).isEqualTo(CheckResult.Status.FAIL);
        assertThat(tampered.reason()).contains("failed");
        assertThat(tampered.evidence().get("first problem")).contains("leaf").doesNotContain("forged");
        assertThat(restored.status()).isEqualTo(CheckResult.Status.PASS);
    }

    private static void asSuperuser(String sql) throws Exception {
        String url = TestInstallation.properties().get("carapace.db.url").toString();
        try (Connection c = DriverManager.getConnection(url, DevDatabase.OWNER, ""); Statement s = c.createStatement()) {
            s.execute("set session_replication_role = replica");
            s.execute(sql);
        }
    }
}
