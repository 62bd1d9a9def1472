package health.carapace.audit;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The access review's reading of a principal's usage does not grow with the patients it reached
 * (issue 13: a service client that had touched a million patients ran the server out of heap,
 * one row per action, type and patient). The usage is per kind of action; whether any patient
 * lay outside a set is a separate yes-or-no question of the trail.
 */
class UsageReadingIsBoundedTest extends IntegrationTest {

    @Autowired
    private AuditTrail trail;

    @Autowired
    private AuditQueries queries;

    @Test
    void usageIsOneRowPerKindOfActionWhateverThePatientsAndTheOutsideQuestionIsAnsweredByTheTrail() {
        String actor = "usage-bound-" + UUID.randomUUID();
        Instant since = Instant.now().minus(Duration.ofMinutes(1));
        List<AuditEvent> events = new ArrayList<>();
        List<String> patients = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            String patient = "Patient/" + UUID.randomUUID();
            patients.add(patient);
            events.add(new AuditEvent(UUID.randomUUID(), Instant.now(), actor, AuditAction.VIEWED,
                    "/fhir/" + patient, AuditContext.none(), true, patient, null, null, false, null));
        }
        String auditOnly = "Patient/" + UUID.randomUUID();
        events.add(new AuditEvent(UUID.randomUUID(), Instant.now(), actor, AuditAction.VIEWED, "/fhir/AuditEvent",
                AuditContext.none(), true, auditOnly, null, null, false, null));
        String refused = "Patient/" + UUID.randomUUID();
        events.add(new AuditEvent(UUID.randomUUID(), Instant.now(), actor, AuditAction.VIEWED, "/fhir/" + refused,
                AuditContext.none(), false, refused, null, null, false, null));
        trail.record(events);

        assertThat(queries.usage(actor, since)).containsExactlyInAnyOrder(
                new AuditQueries.Usage("viewed", "fhir", "Patient"),
                new AuditQueries.Usage("viewed", "fhir", "AuditEvent"));

        assertThat(queries.actedOutside(actor, since, Set.of())).isTrue();
        assertThat(queries.actedOutside(actor, since, patients.subList(0, 299))).as("one patient left out").isTrue();
        assertThat(queries.actedOutside(actor, since, patients))
                .as("the audit trail's own reads and refused requests do not count").isFalse();
        assertThat(queries.actedOutside(actor, Instant.now().plus(Duration.ofMinutes(1)), Set.of()))
                .as("outside the window").isFalse();
    }
}
