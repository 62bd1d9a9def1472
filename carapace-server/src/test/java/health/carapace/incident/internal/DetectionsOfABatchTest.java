package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.audit.AuditTrail;
import health.carapace.incident.Incident;
import health.carapace.incident.Severity;
import health.carapace.testing.IntegrationTest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A batch's detections of one incident are recorded together (issue 13: a principal past a
 * threshold is detected at each of its events), with the same result as one by one: every
 * detection counted, each patient and event referenced once, in the order detected, and never more
 * than {@link Incident#MAX_REFERENCES} of either, across batches.
 */
class DetectionsOfABatchTest extends IntegrationTest {

    @Autowired
    PlatformTransactionManager transactionManager;

    @Autowired
    AuditTrail audit;

    @Test
    void aBatchOfDetectionsCountsEachAndReferencesEachPatientAndEventOnceUpToTheCap() {
        TransactionTemplate transactions = new TransactionTemplate(transactionManager);
        IncidentStore store = new IncidentStore(dataSource, transactions, audit, Clock.systemUTC(), Duration.ofHours(1));
        String principal = "svc-batch-" + UUID.randomUUID();
        Instant at = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        List<String> patients = new ArrayList<>();
        List<UUID> events = new ArrayList<>();
        List<Detection> batch = new ArrayList<>();
        for (int i = 0; i < Incident.MAX_REFERENCES - 3; i++) {
            patients.add("Patient/" + UUID.randomUUID());
            events.add(UUID.randomUUID());
            // every patient twice in the batch: referenced once
            batch.add(detection(principal, patients.get(i), events.get(i), i, at.plusMillis(i)));
        }
        List<Detection> again = batch.stream().map(d -> detection(principal, d.patient(), UUID.randomUUID(),
                d.leafIndex() + 10_000, d.at())).toList();
        batch.addAll(again);
        // another principal in the same batch: an incident of its own
        String other = "svc-batch-other-" + UUID.randomUUID();
        batch.add(detection(other, "Patient/" + UUID.randomUUID(), UUID.randomUUID(), 1, at));

        List<IncidentStore.Opened> opened = transactions.execute(status -> store.record(batch));
        assertThat(opened).extracting(o -> o.detection().principal()).containsExactly(principal, other);
        UUID id = opened.get(0).id();
        assertThat(events(id)).as("every detection counted").isEqualTo(2L * (Incident.MAX_REFERENCES - 3));
        assertThat(patients(id)).as("each patient once").containsExactlyInAnyOrderElementsOf(patients);
        assertThat(eventCount(id)).as("events up to the cap, the first ones first")
                .isEqualTo(Incident.MAX_REFERENCES);
        assertThat(firstEvents(id, events.size())).containsExactlyInAnyOrderElementsOf(events);

        // the next batch joins the incident and fills its patients to the cap, and no further
        List<String> more = new ArrayList<>();
        List<Detection> next = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            more.add("Patient/" + UUID.randomUUID());
            next.add(detection(principal, more.get(i), UUID.randomUUID(), 20_000 + i, at.plusMillis(5_000 + i)));
        }
        List<IncidentStore.Opened> joined = transactions.execute(status -> store.record(next));
        assertThat(joined).as("joined, not opened").isEmpty();
        assertThat(events(id)).isEqualTo(2L * (Incident.MAX_REFERENCES - 3) + 10);
        List<String> expected = new ArrayList<>(patients);
        expected.addAll(more.subList(0, 3));
        assertThat(patients(id)).as("the first three new patients fill the cap").containsExactlyInAnyOrderElementsOf(expected);
        assertThat(eventCount(id)).isEqualTo(Incident.MAX_REFERENCES);
        Instant last = JdbcClient.create(dataSource).sql("select last_event_at from incident.incident where id = ?")
                .param(id).query(java.sql.Timestamp.class).single().toInstant();
        assertThat(last).isEqualTo(at.plusMillis(5_009));
    }

    private static Detection detection(String principal, String patient, UUID event, long leaf, Instant at) {
        return new Detection("volume", Severity.HIGH, principal, "127.0.0.1", patient, event, leaf, at, "test");
    }

    private long events(UUID id) {
        return JdbcClient.create(dataSource).sql("select events from incident.incident where id = ?").param(id)
                .query(Long.class).single();
    }

    private List<String> patients(UUID id) {
        return JdbcClient.create(dataSource).sql("select patient from incident.incident_patient where incident_id = ?")
                .param(id).query(String.class).list();
    }

    private long eventCount(UUID id) {
        return JdbcClient.create(dataSource).sql("select count(*) from incident.incident_event where incident_id = ?")
                .param(id).query(Long.class).single();
    }

    private List<UUID> firstEvents(UUID id, int n) {
        return JdbcClient.create(dataSource).sql("""
                select event_id from incident.incident_event where incident_id = ? order by leaf_index limit ?""")
                .params(id, n).query(UUID.class).list();
    }
}
