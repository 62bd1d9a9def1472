package health.carapace.incident.internal;

import health.carapace.audit.AuditFeed;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Runs the detectors over the sealed audit trail in leaf order, as the Kafka relay reads it: one
 * reader at a time across nodes (a transaction-scoped advisory lock, tried, never waited for), a
 * position in {@code incident.reader_position} moved forward in the same transaction that stores
 * what the batch found, so a crash or a takeover by another node resumes exactly after the last
 * batch that committed. Works with or without Kafka.
 *
 * <p>The short sliding windows (denials, credential failures, bulk reads) live in the memory of
 * the node that reads; a takeover starts them empty (docs/INCIDENTS.md says what that misses).
 */
final class DetectorRunner implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(DetectorRunner.class);
    static final long READER_LOCK = 0x4341524150414345L ^ 15; // "CARAPACE" ^ 15 (issue 15)
    static final String READER = "detectors";

    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;
    private final AuditFeed feed;
    private final List<Detector> detectors;
    private final IncidentStore incidents;
    private final Runnable beforeBatch;
    private final Consumer<List<IncidentStore.Opened>> afterCommit;
    private final IncidentSettings settings;
    private volatile long position = -1;
    private ScheduledExecutorService scheduler;

    DetectorRunner(JdbcClient jdbc, TransactionTemplate transactions, AuditFeed feed, List<Detector> detectors,
            IncidentStore incidents, Runnable beforeBatch, Consumer<List<IncidentStore.Opened>> afterCommit,
            IncidentSettings settings) {
        this.jdbc = jdbc;
        this.transactions = transactions;
        this.feed = feed;
        this.detectors = List.copyOf(detectors);
        this.incidents = incidents;
        this.beforeBatch = beforeBatch;
        this.afterCommit = afterCommit;
        this.settings = settings;
    }

    /** Reads one batch if this node is the reader; returns how many events it inspected. */
    synchronized int runOnce() {
        List<IncidentStore.Opened> opened = new ArrayList<>();
        Integer inspected = transactions.execute(status -> {
            boolean reader = jdbc.sql("select pg_try_advisory_xact_lock(?)").param(READER_LOCK)
                    .query(Boolean.class).single();
            if (!reader) {
                return 0;
            }
            long from = jdbc.sql("select last_leaf from incident.reader_position where reader = ?").param(READER)
                    .query(Long.class).optional().orElse(-1L);
            List<AuditFeed.SealedEvent> batch = feed.after(from, settings.batchSize());
            if (batch.isEmpty()) {
                position = from;
                return 0;
            }
            beforeBatch.run();
            List<Detection> found = new ArrayList<>();
            for (AuditFeed.SealedEvent event : batch) {
                for (Detector detector : detectors) {
                    detector.inspect(event, found);
                }
            }
            for (Detector detector : detectors) {
                detector.endOfBatch(found);
            }
            opened.addAll(incidents.record(found));
            long last = batch.get(batch.size() - 1).leafIndex();
            jdbc.sql("""
                    insert into incident.reader_position (reader, last_leaf) values (?, ?)
                    on conflict (reader) do update set last_leaf = excluded.last_leaf""")
                    .params(READER, last).update();
            position = last;
            return batch.size();
        });
        if (!opened.isEmpty()) {
            afterCommit.accept(opened);
        }
        return inspected == null ? 0 : inspected;
    }

    /** The last leaf this node knows the detectors have read (-1: none, or another node reads). */
    long position() {
        return position;
    }

    private void tick() {
        try {
            while (runOnce() >= settings.batchSize()) {
                // catch up before sleeping
            }
        } catch (RuntimeException e) {
            log.error("The incident detectors failed on a batch; it is read again at the next tick", e);
        }
    }

    @Override
    public synchronized void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "incident-detectors");
            t.setDaemon(true);
            return t;
        });
        long every = settings.pollInterval().toMillis();
        scheduler.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void stop() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            scheduler = null;
        }
    }

    @Override
    public boolean isRunning() {
        return scheduler != null;
    }
}
