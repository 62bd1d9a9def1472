package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import health.carapace.audit.AuditFeed;
import health.carapace.audit.AuditTrail;
import health.carapace.compliance.CheckResult;
import health.carapace.incident.IncidentState;
import health.carapace.incident.Severity;
import health.carapace.testing.IntegrationTest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The durable alert outbox (issue 21 item 3, SMTP): an alert written while the mail server and
 * the webhook receiver are down is kept in PostgreSQL, survives a restart of the sender, and is
 * delivered exactly once, by itself, within max-back-off + poll-interval of the receivers coming
 * back; each attempt is recorded with a code, never a message. An alert that cannot be delivered
 * within give-up-after is dead: counted, and the compliance check {@code incident.procedures}
 * fails until its incident is closed.
 */
class AlertOutboxTest extends IntegrationTest {

    /** The documented bound with this test's settings: max-back-off 1 s + poll 0.2 s, and TLS set-up. */
    private static final Duration DELIVERED_WITHIN = Duration.ofSeconds(5);

    @Autowired
    PlatformTransactionManager transactionManager;

    @Autowired
    AuditTrail audit;

    @Autowired
    AuditFeed feed;

    private final String patient = "Patient/" + UUID.randomUUID();

    @Test
    void anAlertWrittenDuringAnOutageIsDeliveredOnceByItselfWhenTheReceiversReturnEvenAfterARestart()
            throws Exception {
        try (AlertReceivers receivers = new AlertReceivers()) {
            Map<String, String> properties = receivers.properties();
            properties.put("carapace.incident.alert.outbox.poll-interval", "PT0.2S");
            properties.put("carapace.incident.alert.outbox.first-back-off", "PT0.2S");
            properties.put("carapace.incident.alert.outbox.max-back-off", "PT1S");
            AlertSettings settings = AlertReceivers.settings(properties);
            String queue = "test-outbox-" + UUID.randomUUID();
            TransactionTemplate transactions = new TransactionTemplate(transactionManager);
            IncidentStore store = new IncidentStore(dataSource, transactions, audit, Clock.systemUTC(),
                    Duration.ofHours(1), new AlertOutbox(dataSource, settings, queue));
            UUID incident = open(store, transactions);
            List<UUID> alerts = JdbcClient.create(dataSource).sql("select id from incident.alert_outbox where queue = ?")
                    .param(queue).query(UUID.class).list();
            assertThat(alerts).as("one e-mail and one webhook, written with the incident").hasSize(2);

            AlertSender first = sender(transactions, settings, store, queue);
            first.start();
            try {
                first.nudge();
                await().atMost(Duration.ofSeconds(30)).until(() -> attempts(queue) >= 4);
            } finally {
                first.stop();
            }
            assertThat(delivered(queue)).as("nothing reached anyone, nothing was lost").isZero();
            List<String> failures = JdbcClient.create(dataSource).sql("select outcome || ' ' || coalesce(detail, '')"
                    + " from incident.alert_attempt where alert_id in (select id from incident.alert_outbox"
                    + " where queue = ?)").param(queue).query(String.class).list();
            assertThat(failures).allSatisfy(attempt -> assertThat(attempt).matches("failed [A-Za-z.:0-9]+")
                    .doesNotContain("Patient").doesNotContain("localhost"));

            AlertSender restarted = sender(transactions, settings, store, queue);
            restarted.start();
            try {
                receivers.startMail();
                receivers.startWebhook();
                Instant back = Instant.now();
                await().atMost(DELIVERED_WITHIN).until(() -> receivers.mail().size() == 1 && receivers.hooks.size() == 1);
                Duration took = Duration.between(back, Instant.now());
                assertThat(took).isLessThanOrEqualTo(DELIVERED_WITHIN);
                await().atMost(DELIVERED_WITHIN).until(() -> delivered(queue) == 2);
                restarted.runOnce();
                restarted.runOnce();
            } finally {
                restarted.stop();
            }
            assertThat(receivers.mail()).as("exactly once").singleElement().satisfies(message -> {
                assertThat(message.getHeader("X-Carapace-Incident")[0]).isEqualTo(incident.toString());
                assertThat(message.getContent().toString()).doesNotContain(patient);
            });
            assertThat(receivers.hooks).singleElement().satisfies(hook -> {
                assertThat(hook.getKey()).isEqualTo("/hook " + incident + ":opened");
                assertThat(hook.getValue()).doesNotContain(patient);
            });
            assertThat(JdbcClient.create(dataSource).sql("select outcome from incident.alert_attempt where alert_id = ?"
                    + " order by id desc limit 1").param(alerts.get(0)).query(String.class).single()).isEqualTo("delivered");
            assertThat(store.find(incident).orElseThrow().timeline()).anySatisfy(entry -> {
                assertThat(entry.entry()).isEqualTo("alerted");
            });
            store.close(incident, IncidentState.CLOSED, "false-positive", "officer-outbox-test");
        }
    }

    @Test
    void anAlertNotDeliveredWithinGiveUpAfterIsDeadAndFailsTheComplianceCheckUntilItsIncidentIsClosed()
            throws Exception {
        try (AlertReceivers receivers = new AlertReceivers()) { // never started: nobody listens
            Map<String, String> properties = receivers.properties();
            properties.remove("carapace.incident.alert.smtp.host");
            properties.put("carapace.incident.alert.outbox.first-back-off", "PT0.2S");
            properties.put("carapace.incident.alert.outbox.max-back-off", "PT0.2S");
            properties.put("carapace.incident.alert.outbox.poll-interval", "PT0.2S");
            properties.put("carapace.incident.alert.outbox.give-up-after", "PT1S");
            AlertSettings settings = AlertReceivers.settings(properties);
            String queue = "test-dead-" + UUID.randomUUID();
            TransactionTemplate transactions = new TransactionTemplate(transactionManager);
            IncidentStore store = new IncidentStore(dataSource, transactions, audit, Clock.systemUTC(),
                    Duration.ofHours(1), new AlertOutbox(dataSource, settings, queue));
            IncidentProceduresCheck check = new IncidentProceduresCheck(dataSource, feed);
            long deadBefore = IncidentMetrics.deadAlerts(JdbcClient.create(dataSource));
            UUID incident = open(store, transactions);
            AlertSender sender = sender(transactions, settings, store, queue);
            sender.start();
            try {
                await().atMost(Duration.ofSeconds(30)).until(() -> JdbcClient.create(dataSource).sql(
                        "select count(*) from incident.alert_outbox where queue = ? and dead_at is not null")
                        .param(queue).query(Long.class).single() == 1);
            } finally {
                sender.stop();
            }
            assertThat(IncidentMetrics.deadAlerts(JdbcClient.create(dataSource))).isEqualTo(deadBefore + 1);
            CheckResult result = check.evaluate(Instant.now());
            assertThat(result.status()).isEqualTo(CheckResult.Status.FAIL);
            assertThat(result.evidence()).containsEntry("alerts given up on (incident not closed)",
                    Long.toString(deadBefore + 1));
            assertThat(JdbcClient.create(dataSource).sql("select outcome from incident.alert_attempt where alert_id ="
                    + " (select id from incident.alert_outbox where queue = ?) order by id desc limit 1").param(queue)
                    .query(String.class).single()).isEqualTo("dead");

            store.close(incident, IncidentState.CLOSED, "false-positive", "officer-outbox-test");
            assertThat(IncidentMetrics.deadAlerts(JdbcClient.create(dataSource))).isEqualTo(deadBefore);
        }
    }

    /**
     * Review of ADR 0036 (MEDIUM): an alert whose incident cannot be read (here a stored assessment
     * that no longer parses) is a failed attempt of that alert, retried with back-off, and never an
     * exception that rolls back the batch and re-selects the same rows at the next tick.
     */
    @Test
    void anAlertWhoseIncidentCannotBeReadIsAFailedAttemptNotAStuckBatch() throws Exception {
        try (AlertReceivers receivers = new AlertReceivers()) {
            Map<String, String> properties = receivers.properties();
            properties.put("carapace.incident.alert.outbox.first-back-off", "PT10M");
            properties.put("carapace.incident.alert.outbox.max-back-off", "PT10M");
            AlertSettings settings = AlertReceivers.settings(properties);
            String queue = "test-unreadable-" + UUID.randomUUID();
            TransactionTemplate transactions = new TransactionTemplate(transactionManager);
            IncidentStore store = new IncidentStore(dataSource, transactions, audit, Clock.systemUTC(),
                    Duration.ofHours(1), new AlertOutbox(dataSource, settings, queue));
            UUID incident = open(store, transactions);
            JdbcClient.create(dataSource).sql("update incident.incident set risk = '[\"not an assessment\"]'::jsonb"
                    + " where id = ?").param(incident).update();
            AlertSender sender = sender(transactions, settings, store, queue);

            assertThat(sender.runOnce()).isEqualTo(2);
            assertThat(sender.runOnce()).as("both wait for their back-off: nothing is due again").isZero();
            assertThat(attempts(queue)).isEqualTo(2);
            assertThat(JdbcClient.create(dataSource).sql("select outcome || ' ' || detail from incident.alert_attempt"
                    + " where alert_id in (select id from incident.alert_outbox where queue = ?)").param(queue)
                    .query(String.class).list()).allSatisfy(attempt -> assertThat(attempt).startsWith("failed "));
            JdbcClient.create(dataSource).sql("update incident.incident set risk = null where id = ?").param(incident).update();
            store.close(incident, IncidentState.CLOSED, "false-positive", "officer-outbox-test");
        }
    }

    private UUID open(IncidentStore store, TransactionTemplate transactions) {
        Detection detection = new Detection("self-access", Severity.MEDIUM, "svc-outbox-" + UUID.randomUUID(),
                "127.0.0.1", patient, UUID.randomUUID(), 0, Instant.now(), null);
        return transactions.execute(status -> store.record(List.of(detection))).get(0).id();
    }

    private AlertSender sender(TransactionTemplate transactions, AlertSettings settings, IncidentStore store,
            String queue) {
        WebhookAlerts webhooks = new WebhookAlerts(settings.sslContext(), settings.webhookSecret(), Clock.systemUTC(), 1,
                Duration.ZERO);
        MailAlerts mail = settings.mail() ? new MailAlerts(settings) : null;
        return new AlertSender(dataSource, transactions, settings, store, webhooks, mail, "https://carapace.example",
                queue, Clock.systemUTC());
    }

    private long attempts(String queue) {
        return JdbcClient.create(dataSource).sql("select count(*) from incident.alert_attempt where alert_id in"
                + " (select id from incident.alert_outbox where queue = ?)").param(queue).query(Long.class).single();
    }

    private long delivered(String queue) {
        return JdbcClient.create(dataSource).sql("select count(*) from incident.alert_outbox where queue = ?"
                + " and delivered_at is not null").param(queue).query(Long.class).single();
    }
}
