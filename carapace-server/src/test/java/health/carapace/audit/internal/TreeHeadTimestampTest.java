package health.carapace.audit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditVerifier;
import health.carapace.testing.IntegrationTest;
import health.carapace.verify.Ed25519TreeHeadSigner;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A tree head is signed over its time in milliseconds and stored as microseconds. Sealed at an
 * instant whose nanoseconds round up into the next millisecond when stored (1 seal in 2,000 on a
 * clock with nanosecond digits), its signature must still verify: it did not, and the whole
 * trail then failed verification for good (seen in CI as "tree head of size N: its signature is
 * not valid").
 */
class TreeHeadTimestampTest extends IntegrationTest {

    @Autowired
    private AuditTrail trail;

    @Autowired
    private Ed25519TreeHeadSigner signer;

    @Autowired
    private AuditVerifier verifier;

    @Autowired
    private PlatformTransactionManager transactionManager;

    @Test
    void aHeadSealedJustBeforeAMillisecondBoundaryVerifies() {
        Instant roundsUp = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusNanos(999_999_700);
        TreeSealer sealer = new TreeSealer(dataSource, new TransactionTemplate(transactionManager), signer, 10_000,
                Clock.fixed(roundsUp, ZoneOffset.UTC));
        // the application's own sealer runs too: record until this one is the one that seals
        Optional<TreeSealer.Sealed> sealed = await().atMost(Duration.ofSeconds(30)).until(() -> {
            trail.record(List.of(new AuditEvent(UUID.randomUUID(), Instant.now(), "tree-head-timestamp-test",
                    AuditAction.VIEWED, "/metadata", AuditContext.none(), true, null, null, null, false, null)));
            return sealer.sealOnce();
        }, Optional::isPresent);
        assertThat(sealed.orElseThrow().head().head().timestampMillis()).isEqualTo(roundsUp.toEpochMilli());

        var report = verifier.verify();
        assertThat(report.ok()).as("verification: %s", report.firstProblem()).isTrue();
    }
}
