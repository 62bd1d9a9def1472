package health.carapace.audit.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Streams the sealed audit log to Kafka, using the log itself as the outbox. It follows leaf
 * order (contiguous, fixed once sealed), sends a batch with an idempotent producer, waits for
 * every acknowledgement, and only then moves its position forward. A broker outage or a restart
 * means the batch is sent again: at least once, in order per partition (events are keyed by
 * patient), each record carrying its event id and leaf index so consumers can de-duplicate.
 * One relay runs at a time across nodes (transaction-scoped advisory lock).
 */
final class KafkaRelay implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(KafkaRelay.class);
    private static final long RELAY_LOCK = 0x4341524150414345L ^ 2; // "CARAPACE" ^ 2

    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;
    private final Properties producerConfig;
    private final String eventTopic;
    private final int batchSize;
    private KafkaProducer<String, byte[]> producer;

    KafkaRelay(JdbcClient jdbc, TransactionTemplate transactions, String bootstrapServers, String eventTopic,
            int batchSize) {
        this.jdbc = jdbc;
        this.transactions = transactions;
        this.eventTopic = eventTopic;
        this.batchSize = batchSize;
        this.producerConfig = new Properties();
        producerConfig.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
        producerConfig.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        producerConfig.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000);
        producerConfig.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        producerConfig.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000);
        producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        producerConfig.put(ProducerConfig.CLIENT_ID_CONFIG, "carapace-audit-relay");
    }

    private record Row(long leafIndex, String eventId, String patient, byte[] body) {}

    /** Relays what has been sealed since the last acknowledged position; returns how many. */
    int relayOnce() {
        Integer sent = transactions.execute(status -> {
            boolean leader = jdbc.sql("select pg_try_advisory_xact_lock(?)").param(RELAY_LOCK).query(Boolean.class).single();
            if (!leader) {
                return 0;
            }
            long position = jdbc.sql("select last_leaf from ops.relay_position where relay = 'kafka'")
                    .query(Long.class).optional().orElse(-1L);
            List<Row> rows = jdbc.sql("""
                    select l.leaf_index, e.event_id::text, e.patient, e.body
                    from audit.leaf l join audit.event e on e.id = l.event_id
                    where l.leaf_index > ? order by l.leaf_index limit ?""")
                    .params(position, batchSize)
                    .query((rs, n) -> new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getBytes(4)))
                    .list();
            if (rows.isEmpty()) {
                return 0;
            }
            send(rows);
            long last = rows.get(rows.size() - 1).leafIndex();
            jdbc.sql("""
                    insert into ops.relay_position (relay, last_leaf) values ('kafka', ?)
                    on conflict (relay) do update set last_leaf = excluded.last_leaf""")
                    .param(last)
                    .update();
            return rows.size();
        });
        return sent == null ? 0 : sent;
    }

    private void send(List<Row> rows) {
        KafkaProducer<String, byte[]> kafka = producer();
        List<Future<RecordMetadata>> acks = new ArrayList<>(rows.size());
        try {
            for (Row row : rows) {
                ProducerRecord<String, byte[]> record = new ProducerRecord<>(eventTopic,
                        row.patient() == null ? "-" : row.patient(), row.body());
                record.headers().add("event-id", row.eventId().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                record.headers().add("leaf-index", Long.toString(row.leafIndex())
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                Future<RecordMetadata> ack = kafka.send(record);
                if (ack.isDone()) {
                    ack.get(); // failed at once (no metadata, broker gone): stop instead of waiting per record
                }
                acks.add(ack);
            }
            kafka.flush();
            for (Future<RecordMetadata> ack : acks) {
                ack.get();
            }
        } catch (Exception e) {
            // Start the next attempt with a fresh producer: an idempotent producer that saw a
            // fatal error refuses further sends.
            resetProducer();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("Kafka did not acknowledge an audit batch; it will be sent again", e);
        }
    }

    /** Publishes a signed tree head (best effort; the witness directory is the record of it). */
    void publishTreeHead(String topic, String treeHeadJson) {
        try {
            producer().send(new ProducerRecord<>(topic, "tree-head",
                    treeHeadJson.getBytes(java.nio.charset.StandardCharsets.UTF_8))).get();
        } catch (Exception e) {
            resetProducer();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.warn("A tree head could not be published to Kafka; it will be in the next one", e);
        }
    }

    private synchronized KafkaProducer<String, byte[]> producer() {
        if (producer == null) {
            producer = new KafkaProducer<>(producerConfig, new StringSerializer(), new ByteArraySerializer());
        }
        return producer;
    }

    private synchronized void resetProducer() {
        if (producer != null) {
            producer.close(java.time.Duration.ZERO);
            producer = null;
        }
    }

    @Override
    public void destroy() {
        resetProducer();
    }
}
