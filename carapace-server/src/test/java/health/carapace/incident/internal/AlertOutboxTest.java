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

    /**
     * Review of ADR 0036, finding 15 (ADR 0041): each outcome is recorded in a transaction of its own.
     * PostgreSQL refuses to record one alert's outcome (a trigger raising on its attempt row): the
     * alerts delivered with it are not delivered again, the one whose record failed stays claimed for its
     * lease — not sent again within it — and is delivered again after it, once, with the same key.
     */
    @Test
    void aDatabaseErrorWhileRecordingOneAlertDoesNotSendTheOthersAgain() throws Exception {
        try (AlertReceivers receivers = new AlertReceivers()) {
            receivers.startMail();
            receivers.startWebhook();
            Map<String, String> properties = receivers.properties();
            // long enough to outlast the first pass's four deliveries on a loaded machine
            properties.put("carapace.incident.alert.outbox.lease", "PT8S");
            AlertSettings settings = AlertReceivers.settings(properties);
            String queue = "test-record-error-" + UUID.randomUUID();
            TransactionTemplate transactions = new TransactionTemplate(transactionManager);
            IncidentStore store = new IncidentStore(dataSource, transactions, audit, Clock.systemUTC(),
                    Duration.ofHours(1), new AlertOutbox(dataSource, settings, queue));
            List<UUID> incidents = List.of(open(store, transactions), open(store, transactions));
            UUID victim = JdbcClient.create(dataSource).sql("select id from incident.alert_outbox where queue = ?"
                    + " and channel = 'webhook' order by id limit 1").param(queue).query(UUID.class).single();
            JdbcClient owner = owner();
            owner.sql("create function incident.test_refuse_record() returns trigger language plpgsql as"
                    + " $$ begin raise exception 'refused by the test'; end $$").update();
            owner.sql("create trigger test_refuse_record before insert on incident.alert_attempt for each row when"
                    + " (new.alert_id = '" + victim + "') execute function incident.test_refuse_record()").update();
            AlertSender sender = sender(transactions, settings, store, queue);
            try {
                assertThat(sender.runOnce()).as("all four taken and sent").isEqualTo(4);
                assertThat(sender.runOnce()).as("the unrecorded one is held by its lease; the rest are done")
                        .isZero();
            } finally {
                owner.sql("drop trigger test_refuse_record on incident.alert_attempt").update();
                owner.sql("drop function incident.test_refuse_record()").update();
            }
            assertThat(receivers.mail()).hasSize(2);
            assertThat(receivers.hooks).hasSize(2);
            assertThat(delivered(queue)).isEqualTo(3);

            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
                sender.runOnce();
                return delivered(queue) == 4;
            });
            assertThat(receivers.mail()).as("no mail sent twice").hasSize(2);
            assertThat(receivers.hooks).hasSize(3);
            String victimKey = receivers.hooks.get(0).getKey().equals(receivers.hooks.get(2).getKey())
                    ? receivers.hooks.get(0).getKey() : receivers.hooks.get(1).getKey();
            assertThat(receivers.hooks.stream().map(Map.Entry::getKey))
                    .as("only the unrecorded alert again, with its key").containsOnlyOnce(
                            receivers.hooks.stream().map(Map.Entry::getKey).filter(k -> !k.equals(victimKey))
                                    .toArray(String[]::new))
                    .filteredOn(victimKey::equals).hasSize(2);
            for (UUID incident : incidents) {
                store.close(incident, IncidentState.CLOSED, "false-positive", "officer-outbox-test");
            }
        }
    }

    /**
     * A sender that dies between the receiver's answer and its record (here its database is cut off at
     * that moment, and the sender is never used again, as after a crash) leaves only that alert to be
     * sent again: another sender delivers everything once, that one alert a second time, after its
     * lease, with the same idempotency key.
     */
    @Test
    void aCrashBetweenSendAndRecordSendsOnlyThatAlertAgainWithTheSameKey() throws Exception {
        Map<String, Object> installation = health.carapace.testing.TestInstallation.properties();
        int postgres = java.net.URI.create(installation.get("carapace.db.url").toString().substring("jdbc:".length()))
                .getPort();
        try (AlertReceivers receivers = new AlertReceivers();
                health.carapace.testing.CuttableLink link = health.carapace.testing.CuttableLink.to("localhost",
                        postgres)) {
            receivers.startMail();
            receivers.startWebhook();
            Map<String, String> properties = receivers.properties();
            properties.put("carapace.incident.alert.outbox.lease", "PT2S");
            AlertSettings settings = AlertReceivers.settings(properties);
            String queue = "test-crash-" + UUID.randomUUID();
            TransactionTemplate transactions = new TransactionTemplate(transactionManager);
            IncidentStore store = new IncidentStore(dataSource, transactions, audit, Clock.systemUTC(),
                    Duration.ofHours(1), new AlertOutbox(dataSource, settings, queue));
            List<UUID> incidents = List.of(open(store, transactions), open(store, transactions));

            javax.sql.DataSource throughLink = new org.springframework.jdbc.datasource.DriverManagerDataSource(
                    "jdbc:postgresql://localhost:" + link.port() + "/postgres",
                    installation.get("carapace.db.username").toString(), "");
            TransactionTemplate linkTransactions = new TransactionTemplate(
                    new org.springframework.jdbc.datasource.DataSourceTransactionManager(throughLink));
            IncidentStore linkStore = new IncidentStore(throughLink, linkTransactions, audit, Clock.systemUTC(),
                    Duration.ofHours(1), new AlertOutbox(throughLink, settings, queue));
            AlertSender crashing = new AlertSender(throughLink, linkTransactions, settings, linkStore,
                    new WebhookAlerts(settings.sslContext(), settings.webhookSecret(), Clock.systemUTC(), 1,
                            Duration.ZERO), new MailAlerts(settings), "https://carapace.example", queue,
                    Clock.systemUTC());
            java.util.concurrent.atomic.AtomicReference<String> victim = new java.util.concurrent.atomic.AtomicReference<>();
            receivers.onHook = key -> {
                if (victim.compareAndSet(null, key)) {
                    link.cut(); // the receiver has it; the sender will not get to write that down
                }
            };
            org.assertj.core.api.Assertions.assertThatThrownBy(crashing::runOnce)
                    .as("the crashed sender takes nothing more").isInstanceOf(RuntimeException.class);
            receivers.onHook = key -> { };
            int sentBeforeTheCrash = receivers.mail().size() + receivers.hooks.size();

            AlertSender next = sender(transactions, settings, store, queue);
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200)).until(() -> {
                next.runOnce();
                return delivered(queue) == 4;
            });
            assertThat(sentBeforeTheCrash).isBetween(1, 3);
            assertThat(receivers.mail()).hasSize(2).extracting(message -> message.getHeader("X-Carapace-Alert")[0])
                    .doesNotHaveDuplicates();
            assertThat(receivers.hooks).hasSize(3).extracting(Map.Entry::getKey)
                    .filteredOn(key -> key.endsWith(" " + victim.get())).hasSize(2);
            assertThat(receivers.hooks.stream().map(Map.Entry::getKey).filter(key -> !key.endsWith(" " + victim.get())))
                    .hasSize(1);
            for (UUID incident : incidents) {
                store.close(incident, IncidentState.CLOSED, "false-positive", "officer-outbox-test");
            }
        }
    }

    /**
     * Review of ADR 0036, finding 15: a poison alert (its incident no longer reads) ordered first fails
     * with back-off, attempt after attempt, and goes dead after give-up-after, while the alerts after it
     * are delivered at once — it never holds up the queue and never rolls back anyone's record.
     */
    @Test
    void aPoisonAlertBacksOffAndGoesDeadWhileTheAlertsAfterItAreDelivered() throws Exception {
        try (AlertReceivers receivers = new AlertReceivers()) {
            receivers.startMail();
            receivers.startWebhook();
            Map<String, String> properties = receivers.properties();
            properties.put("carapace.incident.alert.outbox.poll-interval", "PT0.1S");
            properties.put("carapace.incident.alert.outbox.first-back-off", "PT0.3S");
            properties.put("carapace.incident.alert.outbox.max-back-off", "PT0.3S");
            properties.put("carapace.incident.alert.outbox.give-up-after", "PT2S");
            AlertSettings settings = AlertReceivers.settings(properties);
            String queue = "test-poison-" + UUID.randomUUID();
            TransactionTemplate transactions = new TransactionTemplate(transactionManager);
            IncidentStore store = new IncidentStore(dataSource, transactions, audit, Clock.systemUTC(),
                    Duration.ofHours(1), new AlertOutbox(dataSource, settings, queue));
            UUID poison = open(store, transactions);
            JdbcClient.create(dataSource).sql("update incident.incident set risk = '[\"not an assessment\"]'::jsonb"
                    + " where id = ?").param(poison).update();
            UUID healthy = open(store, transactions);
            JdbcClient.create(dataSource).sql("update incident.alert_outbox set next_attempt_at = next_attempt_at"
                    + " - interval '1 minute' where incident_id = ?").param(poison).update();

            AlertSender sender = sender(transactions, settings, store, queue);
            sender.start();
            try {
                sender.nudge();
                await().atMost(Duration.ofSeconds(10)).until(() -> receivers.mail().size() == 1
                        && receivers.hooks.size() == 1);
                await().atMost(Duration.ofSeconds(30)).until(() -> JdbcClient.create(dataSource).sql(
                        "select count(*) from incident.alert_outbox where incident_id = ? and dead_at is not null")
                        .param(poison).query(Long.class).single() == 2);
            } finally {
                sender.stop();
            }
            assertThat(receivers.hooks).singleElement().satisfies(hook ->
                    assertThat(hook.getKey()).isEqualTo("/hook " + healthy + ":opened"));
            List<Instant> attempts = JdbcClient.create(dataSource).sql("select a.at from incident.alert_attempt a"
                    + " join incident.alert_outbox o on o.id = a.alert_id where o.incident_id = ? and o.channel = 'webhook'"
                    + " order by a.id").param(poison).query((rs, n) -> rs.getTimestamp(1).toInstant()).list();
            assertThat(attempts).as("failed with back-off until dead").hasSizeGreaterThanOrEqualTo(3);
            for (int i = 1; i < attempts.size(); i++) {
                assertThat(Duration.between(attempts.get(i - 1), attempts.get(i)))
                        .as("back-off between attempts").isGreaterThanOrEqualTo(Duration.ofMillis(299));
            }
            assertThat(JdbcClient.create(dataSource).sql("select outcome from incident.alert_attempt where alert_id in"
                    + " (select id from incident.alert_outbox where incident_id = ?) order by id").param(poison)
                    .query(String.class).list()).contains("failed").endsWith("dead");
            JdbcClient.create(dataSource).sql("update incident.incident set risk = null where id = ?").param(poison)
                    .update();
            store.close(poison, IncidentState.CLOSED, "false-positive", "officer-outbox-test");
            store.close(healthy, IncidentState.CLOSED, "false-positive", "officer-outbox-test");
        }
    }

    /**
     * Two senders on one database (as two nodes): while one is inside a delivery (held there by the
     * receiver), the other delivers everything else and leaves the held alert alone — it is claimed for
     * the lease — so every alert reaches its receiver exactly once.
     */
    @Test
    void twoSendersNeverDeliverTheSameAlertTwiceWithinALease() throws Exception {
        try (AlertReceivers receivers = new AlertReceivers()) {
            receivers.startMail();
            receivers.startWebhook();
            Map<String, String> properties = receivers.properties();
            properties.put("carapace.incident.alert.outbox.lease", "PT1M");
            AlertSettings settings = AlertReceivers.settings(properties);
            String queue = "test-two-senders-" + UUID.randomUUID();
            TransactionTemplate transactions = new TransactionTemplate(transactionManager);
            IncidentStore store = new IncidentStore(dataSource, transactions, audit, Clock.systemUTC(),
                    Duration.ofHours(1), new AlertOutbox(dataSource, settings, queue));
            List<UUID> incidents = List.of(open(store, transactions), open(store, transactions),
                    open(store, transactions));
            java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.atomic.AtomicReference<String> first = new java.util.concurrent.atomic.AtomicReference<>();
            receivers.onHook = key -> {
                if (first.compareAndSet(null, key)) {
                    held.countDown();
                    try {
                        release.await(30, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            AlertSender one = sender(transactions, settings, store, queue);
            AlertSender other = sender(transactions, settings, store, queue);
            java.util.concurrent.CompletableFuture<Integer> oneRuns =
                    java.util.concurrent.CompletableFuture.supplyAsync(one::runOnce);
            assertThat(held.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            int otherTried = other.runOnce();
            assertThat(other.runOnce()).as("nothing left but the held alert, which is claimed").isZero();
            release.countDown();
            int oneTried = oneRuns.get(30, java.util.concurrent.TimeUnit.SECONDS);

            assertThat(oneTried + otherTried).as("each alert taken once").isEqualTo(6);
            assertThat(otherTried).isPositive();
            assertThat(delivered(queue)).isEqualTo(6);
            assertThat(receivers.hooks).extracting(Map.Entry::getKey).hasSize(3).doesNotHaveDuplicates();
            assertThat(receivers.mail()).extracting(message -> message.getHeader("X-Carapace-Alert")[0]).hasSize(3)
                    .doesNotHaveDuplicates();
            for (UUID incident : incidents) {
                store.close(incident, IncidentState.CLOSED, "false-positive", "officer-outbox-test");
            }
        }
    }

    /** The test database as its owner (the server's role cannot create a trigger). */
    private static JdbcClient owner() {
        Map<String, Object> installation = health.carapace.testing.TestInstallation.properties();
        return JdbcClient.create(new org.springframework.jdbc.datasource.DriverManagerDataSource(
                installation.get("carapace.db.url").toString(), installation.get("carapace.db.owner-username").toString(),
                ""));
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
