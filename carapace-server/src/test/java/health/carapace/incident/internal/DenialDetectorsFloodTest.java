package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditFeed.SealedEvent;
import health.carapace.audit.AuditQueries.StoredEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

/**
 * Review M9: containment's own refusals (a lockdown's 503s, a blocked address's 403s) are not new
 * attacks, and a burst yields one detection per subject per batch, not one per event past the
 * threshold (an incident and alert flood).
 */
class DenialDetectorsFloodTest {

    private final IncidentSettings settings = IncidentSettings.from(new MockEnvironment());
    private final Instant start = Instant.parse("2026-12-05T01:00:00Z");

    private List<SealedEvent> denials(int count, String user, String reason) {
        List<SealedEvent> events = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            events.add(new SealedEvent(i, new StoredEvent(UUID.randomUUID(), start.plusMillis(i), user, "denied",
                    "/fhir", new AuditContext("198.51.100.7", null, null), false, null, null, null, false, null,
                    reason)));
        }
        return events;
    }

    private static List<Detection> batch(Detector detector, List<SealedEvent> events) {
        List<Detection> found = new ArrayList<>();
        for (SealedEvent event : events) {
            detector.inspect(event, found);
        }
        detector.endOfBatch(found);
        return found;
    }

    @Test
    void lockdownAndBlockedAddressRefusalsAreNotCounted() {
        int many = 5 * Math.max(settings.denialsCount(), settings.credentialCount());
        for (String reason : List.of("lockdown", "address-blocked")) {
            assertThat(batch(new RepeatedDenialsDetector(settings), denials(many, "dr-locked-out", reason)))
                    .as("repeated-denials, %s", reason).isEmpty();
            assertThat(batch(new CredentialAttackDetector(settings), denials(many, "anonymous", reason)))
                    .as("credential-attack, %s", reason).isEmpty();
        }
    }

    @Test
    void aBurstPastTheThresholdIsOneDetectionPerSubjectInABatch() {
        int many = 5 * Math.max(settings.denialsCount(), settings.credentialCount());
        assertThat(batch(new RepeatedDenialsDetector(settings), denials(many, "dr-prober", "forbidden")))
                .hasSize(1);
        assertThat(batch(new CredentialAttackDetector(settings), denials(many, "anonymous", null)))
                .as("bad tokens from one address").hasSize(1);
    }
}
