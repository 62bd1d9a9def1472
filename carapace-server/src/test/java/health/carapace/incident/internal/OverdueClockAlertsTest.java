package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.audit.AuditFeed;
import health.carapace.audit.AuditTrail;
import health.carapace.incident.Breach;
import health.carapace.incident.IncidentState;
import health.carapace.incident.Severity;
import health.carapace.testing.IntegrationTest;
import health.carapace.testing.MovableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.mail.Message;
import jakarta.mail.internet.MimeMessage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Overdue clocks (issue 15 M7): each clock that runs out unmet is alerted once, through the real
 * outbox and sender to GreenMail over TLS and a signature-checking HTTPS webhook, to the second
 * contact too when the incident is still unacknowledged after {@code escalate-after}; not again at
 * the next check, nor after a restart (the raised clocks are rows); a contained incident's isolate
 * clock and an acknowledged incident's alert clock never raise; the HIPAA clocks of a recorded
 * breach raise at their deadlines. Time is a {@link MovableClock} of this test's own components
 * (the server's run on real time), starting tomorrow at noon so that the shared database's older
 * incidents are long past the catch-up window and raise nothing here.
 */
class OverdueClockAlertsTest extends IntegrationTest {

    @Autowired
    PlatformTransactionManager transactionManager;

    @Autowired
    AuditTrail audit;

    @Autowired
    AuditFeed feed;


    private final String patient = "Patient/" + UUID.randomUUID();

    @Test
    void eachClockThatRunsOutUnmetIsAlertedOnceAndAMetClockNever() throws Exception {
        try (AlertReceivers receivers = new AlertReceivers()) {
            receivers.startMail();
            receivers.startWebhook();
            Map<String, String> properties = receivers.properties();
            properties.put("carapace.incident.alert.overdue.catch-up", "PT1H");
            AlertSettings settings = AlertReceivers.settings(properties);
            Instant t0 = LocalDate.now(ZoneOffset.UTC).plusDays(1).atTime(12, 0).toInstant(ZoneOffset.UTC);
            MovableClock clock = new MovableClock(t0);
            String queue = "test-overdue-" + UUID.randomUUID();
            TransactionTemplate transactions = new TransactionTemplate(transactionManager);
            AlertOutbox outbox = new AlertOutbox(dataSource, settings, queue);
            IncidentStore store = new IncidentStore(dataSource, transactions, audit, clock, Duration.ofHours(1), outbox);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            IncidentMetrics metrics = new IncidentMetrics(dataSource, feed, clock);
            metrics.bindTo(registry);

            UUID ignored = open(store, transactions, t0, "ignored");
            UUID handled = open(store, transactions, t0, "handled");
            UUID breach = open(store, transactions, t0, "breach");
            OverdueClocks overdue = overdueClocks(transactions, store, outbox, clock, settings);
            assertThat(overdue.check()).as("nothing of ours is due; older incidents are recorded, not alerted")
                    .isEmpty();
            // the server's detectors have read everything: no incident of theirs appears between the two readings
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
                    .until(() -> JdbcClient.create(dataSource).sql("select last_leaf from incident.reader_position"
                            + " where reader = ?").param(DetectorRunner.READER).query(Long.class).optional().orElse(-1L)
                            >= feed.lastSealedLeaf());
            metrics.refreshBeforeScrape();
            double isolateBefore = gauge(registry, "isolate");

            clock.advance(Duration.ofMinutes(1));
            store.acknowledge(handled, "officer-overdue-test");
            store.contained(handled, "officer-overdue-test", "disable");

            clock.advanceTo(t0.plus(Duration.ofMinutes(16)));
            List<String> raised = overdue.check();
            metrics.overdueRaised(raised);
            assertThat(raised).containsExactly("isolate", "isolate");
            assertThat(queued(queue)).containsExactlyInAnyOrder(
                    ignored + " overdue:isolate primary email", ignored + " overdue:isolate primary webhook",
                    breach + " overdue:isolate primary email", breach + " overdue:isolate primary webhook");
            metrics.refreshBeforeScrape();
            assertThat(gauge(registry, "isolate") - isolateBefore).as("the gauge counts ours, not the contained one")
                    .isEqualTo(2.0);
            assertThat(counter(registry, "isolate")).isEqualTo(2.0);
            assertThat(overdue.check()).as("not raised again at the next check").isEmpty();

            clock.advanceTo(t0.plus(Duration.ofMinutes(61)));
            raised = overdue.check();
            metrics.overdueRaised(raised);
            assertThat(raised).as("nothing was delivered yet: the alert clock ran out, except where acknowledged")
                    .containsExactly("alert", "alert");
            assertThat(queued(queue)).as("unacknowledged after escalate-after: the second contact too").contains(
                    ignored + " overdue:alert primary email", ignored + " overdue:alert escalation email",
                    ignored + " overdue:alert escalation webhook").noneMatch(row -> row.startsWith(handled.toString()));

            AlertSender sender = sender(transactions, settings, store, queue, clock);
            drain(sender);
            assertThat(subjects(receivers, ignored, AlertReceivers.OFFICER)).containsExactlyInAnyOrder(
                    "Carapace incident MEDIUM: self-access", "Carapace incident MEDIUM: self-access (clock overdue: isolate)",
                    "Carapace incident MEDIUM: self-access (clock overdue: alert)");
            assertThat(subjects(receivers, ignored, AlertReceivers.SECOND))
                    .containsExactly("Carapace incident MEDIUM: self-access (clock overdue: alert)");
            assertThat(subjects(receivers, handled, AlertReceivers.OFFICER))
                    .containsExactly("Carapace incident MEDIUM: self-access");
            assertThat(receivers.hooks).extracting(Map.Entry::getKey).contains(
                    "/hook " + ignored + ":overdue:isolate", "/hook " + ignored + ":overdue:alert",
                    "/second " + ignored + ":overdue:alert:escalation")
                    .noneMatch(key -> key.contains(handled + ":overdue"));
            assertThat(receivers.hooks).filteredOn(hook -> hook.getKey().equals("/hook " + ignored + ":overdue:isolate"))
                    .singleElement().satisfies(hook -> assertThat(hook.getValue()).contains("\"clock\":\"isolate\"")
                            .contains("\"kind\":\"overdue\"").doesNotContain(patient));
            for (MimeMessage message : receivers.mail()) {
                assertThat(message.getContent().toString()).doesNotContain(patient).doesNotContain("Patient/");
            }

            // a restart: new components on the same database raise nothing again and send nothing again
            int mails = receivers.mail().size();
            int hooks = receivers.hooks.size();
            OverdueClocks restarted = overdueClocks(transactions, store, outbox, clock, settings);
            assertThat(restarted.check()).isEmpty();
            drain(sender(transactions, settings, store, queue, clock));
            assertThat(receivers.mail()).hasSize(mails);
            assertThat(receivers.hooks).hasSize(hooks);

            // HIPAA: a breach of 600, 501 of them in California, discovered the day of detection
            store.recordBreach(breach, new Breach(LocalDate.ofInstant(t0, ZoneOffset.UTC), 600, Map.of("CA", 501)),
                    "officer-overdue-test");
            Instant deadline = LocalDate.ofInstant(t0, ZoneOffset.UTC).plusDays(61).atStartOfDay(ZoneOffset.UTC)
                    .toInstant();
            clock.advanceTo(deadline.minusSeconds(60));
            assertThat(restarted.check()).as("the plan clocks ran out days ago: recorded late, not mailed").isEmpty();
            clock.advanceTo(deadline.plus(Duration.ofMinutes(30)));
            raised = restarted.check();
            metrics.overdueRaised(raised);
            assertThat(raised).containsExactlyInAnyOrder("individuals", "hhs", "media");
            assertThat(counter(registry, "media")).isEqualTo(1.0);
            drain(sender(transactions, settings, store, queue, clock));
            assertThat(subjects(receivers, breach, AlertReceivers.OFFICER)).contains(
                    "Carapace incident MEDIUM: self-access (clock overdue: individuals)",
                    "Carapace incident MEDIUM: self-access (clock overdue: hhs)",
                    "Carapace incident MEDIUM: self-access (clock overdue: media)");
            assertThat(subjects(receivers, breach, AlertReceivers.SECOND))
                    .contains("Carapace incident MEDIUM: self-access (clock overdue: media)");
            assertThat(restarted.check()).isEmpty();
            assertThat(timeline(ignored)).contains("overdue isolate", "overdue alert", "overdue plan:late");

            for (UUID id : List.of(ignored, handled, breach)) {
                store.close(id, IncidentState.CLOSED, "false-positive", "officer-overdue-test");
            }
        }
    }

    private UUID open(IncidentStore store, TransactionTemplate transactions, Instant at, String name) {
        Detection detection = new Detection("self-access", Severity.MEDIUM, "svc-overdue-" + name + "-" + UUID.randomUUID(),
                "127.0.0.1", patient, UUID.randomUUID(), 0, at, null);
        return transactions.execute(status -> store.record(List.of(detection))).get(0).id();
    }

    private OverdueClocks overdueClocks(TransactionTemplate transactions, IncidentStore store, AlertOutbox outbox,
            Clock clock, AlertSettings settings) {
        return new OverdueClocks(dataSource, transactions, store, outbox, clock, settings.outbox().overdueCatchUp(),
                settings.escalateAfter());
    }

    private AlertSender sender(TransactionTemplate transactions, AlertSettings settings, IncidentStore store,
            String queue, Clock clock) {
        WebhookAlerts webhooks = new WebhookAlerts(settings.sslContext(), settings.webhookSecret(), Clock.systemUTC(), 1,
                Duration.ZERO);
        return new AlertSender(dataSource, transactions, settings, store, webhooks, new MailAlerts(settings),
                "https://carapace.example", queue, clock);
    }

    private static void drain(AlertSender sender) {
        for (int pass = 0; pass < 10 && sender.runOnce() > 0; pass++) {
            // what is due is delivered in passes of at most 20
        }
    }

    private List<String> queued(String queue) {
        return JdbcClient.create(dataSource).sql("select incident_id || ' ' || kind || ' ' || contact || ' ' || channel"
                + " from incident.alert_outbox where queue = ? and kind like 'overdue:%'").param(queue)
                .query(String.class).list();
    }

    private List<String> timeline(UUID id) {
        return JdbcClient.create(dataSource).sql("select entry || ' ' || coalesce(detail, '') from incident.timeline"
                + " where incident_id = ? order by id").param(id).query(String.class).list();
    }

    private static List<String> subjects(AlertReceivers receivers, UUID incident, String recipient) throws Exception {
        List<String> subjects = new ArrayList<>();
        for (MimeMessage message : receivers.mail()) {
            String[] header = message.getHeader("X-Carapace-Incident");
            boolean toRecipient = java.util.Arrays.stream(message.getRecipients(Message.RecipientType.TO))
                    .anyMatch(address -> address.toString().equals(recipient));
            if (header != null && header[0].equals(incident.toString()) && toRecipient) {
                subjects.add(message.getSubject());
            }
        }
        return subjects;
    }

    private static double gauge(SimpleMeterRegistry registry, String clock) {
        return registry.get("carapace.incident.clocks.overdue").tag("clock", clock).gauge().value();
    }

    private static double counter(SimpleMeterRegistry registry, String clock) {
        return registry.get("carapace.incident.overdue.alerts").tag("clock", clock).counter().count();
    }
}
