package health.carapace.incident.internal;

import health.carapace.audit.AuditFeed;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
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
import javax.sql.DataSource;

/**
 * Runs the detectors over the sealed audit trail in leaf order, as the Kafka relay reads it: one
 * reader at a time across nodes, and the same one for as long as it lives. The reader holds a
 * session-level advisory lock on a connection of its own; the lock goes when that connection or
 * the node dies (or the runner stops), and only then does another node take over. Were the lock
 * taken per batch, batches would alternate between nodes, splitting the in-memory windows below
 * and multiplying every threshold (review H2). Each batch also takes a transaction-scoped lock
 * (a second key), so that during a takeover two readers never run a batch at once; the position
 * in {@code incident.reader_position} moves forward in the same transaction that stores what the
 * batch found, so a crash or a takeover resumes exactly after the last batch that committed.
 * Works with or without Kafka.
 *
 * <p>The short sliding windows (denials, credential failures, bulk reads) live in the memory of
 * the node that reads; a takeover starts them empty (docs/INCIDENTS.md says what that misses).
 */
final class DetectorRunner implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(DetectorRunner.class);
    static final long READER_LOCK = 0x4341524150414345L ^ 15; // "CARAPACE" ^ 15 (issue 15)
    static final String READER = "detectors";
    /** Held for the duration of one batch (see the class comment). */
    private static final long BATCH_LOCK_OFFSET = 1;

    private final JdbcClient jdbc;
    private final DataSource dataSource;
    private final long readerLock;
    private final String reader;
    /** The connection holding the session-level reader lock while this node reads (guarded by this). */
    private Connection readerConnection;
    private final TransactionTemplate transactions;
    private final AuditFeed feed;
    private final List<Detector> detectors;
    private final IncidentStore incidents;
    private final Runnable beforeBatch;
    private final Consumer<List<IncidentStore.Opened>> afterCommit;
    private final IncidentSettings settings;
    private volatile long position = -1;
    private ScheduledExecutorService scheduler;
    /** Checks of the audit trail's own state, asked at their interval by the reading node (audit-integrity). */
    private AuditIntegrityWatch watch;
    private java.time.Duration watchInterval;
    private java.time.Clock watchClock;
    private Instant watchedAt;

    DetectorRunner(DataSource dataSource, TransactionTemplate transactions, AuditFeed feed, List<Detector> detectors,
            IncidentStore incidents, Runnable beforeBatch, Consumer<List<IncidentStore.Opened>> afterCommit,
            IncidentSettings settings) {
        this(dataSource, transactions, feed, detectors, incidents, beforeBatch, afterCommit, settings, READER_LOCK,
                READER);
    }

    /** With its own lock key and position name (tests run several readers beside the server's). */
    DetectorRunner(DataSource dataSource, TransactionTemplate transactions, AuditFeed feed, List<Detector> detectors,
            IncidentStore incidents, Runnable beforeBatch, Consumer<List<IncidentStore.Opened>> afterCommit,
            IncidentSettings settings, long readerLock, String reader) {
        this.dataSource = dataSource;
        this.jdbc = JdbcClient.create(dataSource);
        this.readerLock = readerLock;
        this.reader = reader;
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
        if (!holdsReaderLock()) {
            position = -1;
            return 0;
        }
        List<IncidentStore.Opened> opened = new ArrayList<>();
        Integer inspected = transactions.execute(status -> {
            boolean alone = jdbc.sql("select pg_try_advisory_xact_lock(?)").param(readerLock + BATCH_LOCK_OFFSET)
                    .query(Boolean.class).single();
            if (!alone) {
                return 0;
            }
            long from = jdbc.sql("select last_leaf from incident.reader_position where reader = ?").param(reader)
                    .query(Long.class).optional().orElse(-1L);
            List<AuditFeed.SealedEvent> batch = feed.after(from, settings.batchSize());
            if (batch.isEmpty()) {
                position = from;
                return 0;
            }
            beforeBatch.run();
            for (Detector detector : detectors) {
                detector.startOfBatch(batch);
            }
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
                    .params(reader, last).update();
            position = last;
            return batch.size();
        });
        if (!opened.isEmpty()) {
            afterCommit.accept(opened);
        }
        return inspected == null ? 0 : inspected;
    }

    /**
     * Whether this node is the reader: it keeps the session lock while its connection is alive,
     * and tries to take it (never waits) when it has none.
     */
    private boolean holdsReaderLock() {
        if (readerConnection != null) {
            try {
                if (readerConnection.isValid(2)) {
                    return true;
                }
            } catch (SQLException e) {
                // treated as lost below
            }
            log.warn("The incident detectors lost their reader lock connection; another node may read now");
            releaseReaderLock();
        }
        Connection connection = null;
        try {
            connection = dataSource.getConnection();
            connection.setAutoCommit(true); // a session lock, not inside a transaction left open
            boolean taken;
            try (PreparedStatement statement = connection.prepareStatement("select pg_try_advisory_lock(?)")) {
                statement.setLong(1, readerLock);
                try (ResultSet rs = statement.executeQuery()) {
                    rs.next();
                    taken = rs.getBoolean(1);
                }
            }
            if (taken) {
                readerConnection = connection;
                connection = null;
                return true;
            }
            return false;
        } catch (SQLException e) {
            log.warn("The incident detectors could not try the reader lock; trying again at the next tick");
            return false;
        } finally {
            if (connection != null) {
                try {
                    connection.close();
                } catch (SQLException ignored) {
                    // returned to the pool or gone: either way not ours
                }
            }
        }
    }

    /** Lets another node read: closing the connection ends the session and its lock. */
    private synchronized void releaseReaderLock() {
        Connection connection = readerConnection;
        readerConnection = null;
        if (connection == null) {
            return;
        }
        try (PreparedStatement statement = connection.prepareStatement("select pg_advisory_unlock(?)")) {
            statement.setLong(1, readerLock);
            statement.execute();
        } catch (SQLException gone) {
            // the session is gone, and its lock with it
        }
        try {
            connection.close();
        } catch (SQLException ignored) {
            // already closed
        }
    }

    /** Asks {@code watch} at {@code interval} while this node is the reader, events or not. */
    synchronized void watch(AuditIntegrityWatch watch, java.time.Duration interval, java.time.Clock clock) {
        this.watch = watch;
        this.watchInterval = interval;
        this.watchClock = clock;
    }

    /** Runs the watch if it is due and this node reads; returns what it opened. */
    synchronized List<IncidentStore.Opened> runWatch() {
        if (watch == null || !holdsReaderLock()) {
            return List.of();
        }
        Instant now = watchClock.instant();
        if (watchedAt != null && now.isBefore(watchedAt.plus(watchInterval))) {
            return List.of();
        }
        watchedAt = now;
        List<Detection> found = watch.check(now);
        if (found.isEmpty()) {
            return List.of();
        }
        List<IncidentStore.Opened> opened = transactions.execute(status -> incidents.record(found));
        if (opened != null && !opened.isEmpty()) {
            afterCommit.accept(opened);
        }
        return opened == null ? List.of() : opened;
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
        try {
            runWatch();
        } catch (RuntimeException e) {
            log.error("The audit-integrity watch failed; it runs again at the next tick", e);
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
        releaseReaderLock();
    }

    @Override
    public boolean isRunning() {
        return scheduler != null;
    }
}
