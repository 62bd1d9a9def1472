package health.carapace.audit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import health.carapace.CarapaceApplication;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.platform.dev.DevEnvironment;
import health.carapace.testing.TcpProxy;
import health.carapace.testing.TestInstallation;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import kafka.server.BrokerServer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * The audit log streamed to a real Kafka broker (KRaft, in-process): every sealed event arrives,
 * in leaf order per partition, with its event id; a broker that is shut down mid-stream loses
 * nothing: the relay does not move past what the broker did not acknowledge, and resumes when
 * the broker is started again. (Clients reach the broker through a loopback proxy only because
 * a restarted broker binds a new port; the proxy gives them one stable address.)
 */
@SpringBootTest(classes = CarapaceApplication.class, webEnvironment = SpringBootTest.WebEnvironment.NONE)
@DirtiesContext
class KafkaRelayTest {

    private static final String TOPIC = "carapace.audit.events";
    /** Clients reach the broker through this proxy, which the test takes down to cut them off. */
    private static final int PORT = freePort();
    private static final TcpProxy proxy = new TcpProxy(PORT);
    private static final EmbeddedKafkaKraftBroker broker = startBroker();
    private static DevEnvironment installation;

    @Autowired
    AuditTrail trail;

    @Autowired
    TreeSealer sealer;

    @Autowired
    KafkaRelay relay;

    @Autowired
    DataSource dataSource;

    @DynamicPropertySource
    static void ownDatabaseAndBroker(DynamicPropertyRegistry registry) {
        installation = TestInstallation.separate("kafka-relay");
        installation.properties().forEach((key, value) -> registry.add(key, () -> value));
        registry.add("carapace.audit.kafka.bootstrap-servers", () -> "localhost:" + PORT);
    }

    @AfterAll
    static void stopBroker() {
        proxy.close();
        broker.destroy();
    }

    @Test
    void everySealedEventArrivesInOrderAndNoneIsLostWhenTheBrokerGoesAway() {
        List<String> firstBatch = recordAndSeal(100);
        assertThat(relay.relayOnce()).isEqualTo(100);
        Map<String, Long> received = consumeAll(100);
        assertThat(received.keySet()).containsAll(firstBatch);

        stopBrokerProcess(); // the broker goes away mid-stream
        List<String> duringOutage = recordAndSeal(50);
        long positionBefore = position();
        assertThatThrownBy(() -> relay.relayOnce()).isInstanceOf(IllegalStateException.class);
        assertThat(position()).as("the relay does not move past unacknowledged events").isEqualTo(positionBefore);

        restartBrokerProcess(); // the broker is back, with its log
        List<String> afterOutage = recordAndSeal(25);
        int relayed = 0;
        int sent;
        while ((sent = relay.relayOnce()) > 0) {
            relayed += sent;
        }
        assertThat(relayed).isEqualTo(75);
        Map<String, Long> all = consumeAll(175);
        assertThat(all.keySet()).containsAll(firstBatch).containsAll(duringOutage).containsAll(afterOutage);

        // a relay that starts afresh (a server restart) resumes from the stored position
        KafkaRelay restarted = new KafkaRelay(JdbcClient.create(dataSource),
                new org.springframework.transaction.support.TransactionTemplate(
                        new org.springframework.jdbc.support.JdbcTransactionManager(dataSource)),
                "localhost:" + PORT, TOPIC, 1000);
        try {
            assertThat(restarted.relayOnce()).isZero();
        } finally {
            restarted.destroy();
        }
    }

    private List<String> recordAndSeal(int events) {
        List<AuditEvent> batch = new ArrayList<>();
        for (int i = 0; i < events; i++) {
            batch.add(new AuditEvent(UUID.randomUUID(), Instant.now(), "kafka-test", AuditAction.VIEWED,
                    "/fhir/Patient/x", AuditContext.none(), true, "Patient/" + UUID.randomUUID(), null, null, false, null));
        }
        trail.record(batch);
        sealer.sealOnce().orElseThrow();
        return batch.stream().map(e -> e.id().toString()).toList();
    }

    private long position() {
        return JdbcClient.create(dataSource).sql("select coalesce(max(last_leaf), -1) from ops.relay_position")
                .query(Long.class).single();
    }

    /** Reads the topic from the beginning until {@code expected} distinct events arrived; checks order. */
    private Map<String, Long> consumeAll(int expected) {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:" + PORT);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        Map<String, Long> leafByEvent = new HashMap<>();
        Map<Integer, Long> lastLeafPerPartition = new HashMap<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(TOPIC));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (leafByEvent.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    String eventId = new String(record.headers().lastHeader("event-id").value(), StandardCharsets.US_ASCII);
                    long leaf = Long.parseLong(new String(record.headers().lastHeader("leaf-index").value(),
                            StandardCharsets.US_ASCII));
                    Long previous = lastLeafPerPartition.put(record.partition(), leaf);
                    if (!leafByEvent.containsKey(eventId)) {
                        assertThat(previous == null || leaf > previous).as("leaf order within a partition").isTrue();
                    }
                    leafByEvent.put(eventId, leaf);
                    assertThat(new String(record.value(), StandardCharsets.UTF_8)).contains(eventId);
                }
            }
        }
        assertThat(leafByEvent).hasSizeGreaterThanOrEqualTo(expected);
        return leafByEvent;
    }

    /**
     * The broker advertises the proxy's address, so that every client connection (bootstrap and
     * metadata-directed) goes through the proxy. Topics are created once the proxy forwards.
     */
    private static EmbeddedKafkaKraftBroker startBroker() {
        EmbeddedKafkaKraftBroker started = new EmbeddedKafkaKraftBroker(1, 2);
        started.brokerProperty("advertised.listeners", "EXTERNAL://localhost:" + PORT);
        started.afterPropertiesSet();
        String real = started.getBrokersAsString();
        proxy.forwardTo(Integer.parseInt(real.substring(real.lastIndexOf(':') + 1)));
        startProxy();
        started.addTopics(TOPIC);
        return started;
    }

    /** Shuts the broker server down (the KRaft controller stays): nothing listens behind the proxy. */
    private static void stopBrokerProcess() {
        for (BrokerServer server : broker.getCluster().brokers().values()) {
            server.shutdown();
            server.awaitShutdown();
        }
    }

    /** Starts the same broker again (same log directory); it binds a new port, the proxy follows. */
    private static void restartBrokerProcess() {
        for (BrokerServer server : broker.getCluster().brokers().values()) {
            server.startup();
            proxy.forwardTo(server.boundPort(new ListenerName("EXTERNAL")));
        }
    }

    private static void startProxy() {
        try {
            proxy.start();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
