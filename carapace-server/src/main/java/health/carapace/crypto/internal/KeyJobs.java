package health.carapace.crypto.internal;

import health.carapace.crypto.KeyLifecycleEvent;
import health.carapace.crypto.KeyRotation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The runner of the key rotation jobs (ADR 0010). Each job is a row in {@code ops.key_job} that
 * moves through the phases of its kind ({@link KekRewrap}, {@link DekRotation},
 * {@link IndexRekeying}); within a phase, work goes in batches and the checkpoint (the last
 * key_ref or row done) is stored after each. Every step is idempotent: re-wrapping and
 * re-encrypting write only rows still under the old key (compare-and-set), adding a key twice
 * leaves an extra key that the destroy phase removes, and a version is created at most once per
 * job (a version younger than the job is the job's). So a job killed anywhere resumes from its
 * checkpoint and finishes.
 *
 * <p>One node runs jobs at a time: a session-level PostgreSQL advisory lock on the main database,
 * held for the run (a node that dies releases it with its connection).
 */
final class KeyJobs implements KeyRotation, DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(KeyJobs.class);

    /** Advisory lock key ("keyjobs!" in ASCII), distinct from the audit sealer's and relay's. */
    static final long JOBS_LOCK = 0x6b65796a6f627321L;
    static final String SYSTEM_ACTOR = "system:key-jobs";
    private static final int MAX_ROUNDS = 5;

    record Job(UUID id, String kind, String scope, String phase, String checkpoint, long done, Instant startedAt) {}

    private final DataSource dataSource;
    private final JdbcClient jdbc;
    private final KeyringStore store;
    private final UsageCounters counters;
    private final KeysProperties properties;
    private final ApplicationEventPublisher events;
    private final HsmWorkers hsm;
    private final KekRewrap kekRewrap;
    private final DekRotation dekRotation;
    private final IndexRekeying indexRekeying;
    private final StateKeysets stateKeys;
    private final Map<String, KeyJobKind> kinds;
    private volatile KeyringStore.DekCounts lastCounts;

    KeyJobs(DataSource dataSource, KeyringStore store, UsageCounters counters, KeysProperties properties,
            ApplicationEventPublisher events, HsmWorkers hsm, KekRewrap kekRewrap, DekRotation dekRotation,
            IndexRekeying indexRekeying, StateKeysets stateKeys) {
        this.dataSource = dataSource;
        this.jdbc = JdbcClient.create(dataSource);
        this.store = store;
        this.counters = counters;
        this.properties = properties;
        this.events = events;
        this.hsm = hsm;
        this.kekRewrap = kekRewrap;
        this.dekRotation = dekRotation;
        this.indexRekeying = indexRekeying;
        this.stateKeys = stateKeys;
        this.kinds = Map.of(kekRewrap.name(), kekRewrap, dekRotation.name(), dekRotation,
                indexRekeying.name(), indexRekeying);
    }

    @Override
    public UUID rotateKek(String actor) {
        return start(kekRewrap, null, actor);
    }

    @Override
    public UUID rotateDeks(String actor, UUID patient) {
        return start(dekRotation, patient == null ? null : "Patient/" + patient, actor);
    }

    @Override
    public UUID rotateIndexKeys(String actor) {
        return start(indexRekeying, null, actor);
    }

    @Override
    public List<String> rotateStateKeys(String actor) {
        return stateKeys.rotateAll(actor);
    }

    private UUID start(KeyJobKind kind, String scope, String actor) {
        UUID id = UUID.randomUUID();
        if (running(kind)) {
            throw new IllegalStateException("A " + kind.name() + " job is already running; it must finish first");
        }
        // Audited before the job exists (fail closed); a lost race below leaves an audited start
        // that the other job's record answers.
        events.publishEvent(new KeyLifecycleEvent(actor, kind.resource() + "/rotation-started", scope));
        try {
            jdbc.sql("insert into ops.key_job (id, kind, scope, phase, state) values (?, ?, ?, ?, 'running')")
                    .params(id, kind.name(), scope, kind.firstPhase()).update();
        } catch (DuplicateKeyException running) {
            throw new IllegalStateException("A " + kind.name() + " job is already running; it must finish first");
        }
        return id;
    }

    /** Starts a KEK rotation if the active version is older than the configured maximum age. */
    boolean rotateKekIfDue() {
        if (!kekRewrap.due() || running(kekRewrap)) {
            return false;
        }
        rotateKek(SYSTEM_ACTOR);
        return true;
    }

    private boolean running(KeyJobKind kind) {
        return jdbc.sql("select exists (select 1 from ops.key_job where kind = ? and state = 'running')")
                .param(kind.name()).query(Boolean.class).single();
    }

    @Override
    public boolean runJobs() {
        return runJobs(false);
    }

    /**
     * The scheduler's check: under the job lock (so one node decides), starts a KEK rotation if
     * the active KEK is too old, then runs every unfinished job.
     */
    boolean runScheduled() {
        return runJobs(true);
    }

    private boolean runJobs(boolean startDueRotation) {
        try (Connection lockConnection = dataSource.getConnection()) {
            if (!advisory(lockConnection, "select pg_try_advisory_lock(?)")) {
                return false;
            }
            try {
                if (startDueRotation) {
                    rotateKekIfDue();
                }
                List<Job> pending;
                while (!(pending = runningJobs()).isEmpty()) {
                    for (Job job : pending) {
                        run(job);
                    }
                }
                return true;
            } finally {
                advisory(lockConnection, "select pg_advisory_unlock(?)");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot take the key job lock", e);
        } finally {
            counters.flush();
        }
    }

    @Override
    public JobHold holdJobs(Duration wait) {
        Connection connection;
        try {
            connection = dataSource.getConnection();
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot reach the database to hold the key jobs", e);
        }
        try (java.sql.Statement statement = connection.createStatement()) {
            statement.execute("set lock_timeout = " + Math.max(1, wait.toMillis()));
            try (PreparedStatement lock = connection.prepareStatement("select pg_advisory_lock(?)")) {
                lock.setLong(1, JOBS_LOCK);
                lock.execute();
            } finally {
                statement.execute("set lock_timeout = 0");
            }
        } catch (SQLException e) {
            closeQuietly(connection);
            throw new IllegalStateException("Key jobs are running and did not stop within " + wait
                    + "; try again when ./carapace keys status shows none running", e);
        }
        return () -> {
            try {
                advisory(connection, "select pg_advisory_unlock(?)");
            } catch (SQLException e) {
                log.warn("The key job hold could not be released; it ends with its connection");
            } finally {
                closeQuietly(connection);
            }
        };
    }

    private static void closeQuietly(Connection connection) {
        try {
            connection.close();
        } catch (SQLException e) {
            // the pool replaces a broken connection; the session's lock ends with it
        }
    }

    private static boolean advisory(Connection connection, String sql) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            statement.setLong(1, JOBS_LOCK);
            try (ResultSet rs = statement.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    private List<Job> runningJobs() {
        return jdbc.sql("""
                select id, kind, scope, phase, checkpoint, done, started_at from ops.key_job
                where state = 'running' order by started_at""")
                .query((rs, n) -> new Job(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3),
                        rs.getString(4), rs.getString(5), rs.getLong(6), rs.getTimestamp(7).toInstant()))
                .list();
    }

    private void run(Job job) {
        try {
            Job current = job;
            while (current != null) {
                current = kindOf(current).step(current, this);
            }
        } catch (RuntimeException e) {
            // The job stays 'running' and resumes from its checkpoint at the next run.
            log.error("A key job step failed; it resumes from its checkpoint at the next run", e);
            throw e;
        }
    }

    private KeyJobKind kindOf(Job job) {
        KeyJobKind kind = kinds.get(job.kind());
        if (kind == null) {
            throw new IllegalStateException("unknown key job kind " + job.kind());
        }
        return kind;
    }

    // ---- what a kind's steps record -----------------------------------------------------------

    /**
     * Every node re-reads which versions are active within the refresh interval; after twice that,
     * no node still encrypts or indexes under the previous version, so a full pass catches all.
     */
    Job settle(Job job) {
        Instant until = Instant.now().plus(properties.refreshInterval().multipliedBy(2));
        return phase(job, "settle", until.toString());
    }

    /** Waits out the settle phase (its checkpoint is the end of the wait), then moves to {@code next}. */
    Job awaitSettled(Job job, String next) {
        Instant until = Instant.parse(job.checkpoint());
        long wait = Duration.between(Instant.now(), until).toMillis();
        if (wait > 0) {
            sleep(wait);
        }
        return phase(job, next, null);
    }

    /**
     * Sends the job back to {@code phase} for another pass, counted in the row; fails once
     * {@value #MAX_ROUNDS} passes did not get there ({@code failure} says what remains).
     */
    Job anotherPass(Job job, String phase, String failure) {
        int round = jdbc.sql("update ops.key_job set rounds = rounds + 1 where id = ? returning rounds")
                .param(job.id()).query(Integer.class).single();
        if (round >= MAX_ROUNDS) {
            throw new IllegalStateException(failure + " after " + round + " passes");
        }
        return phase(job, phase, null);
    }

    Job phase(Job job, String phase, String checkpoint) {
        jdbc.sql("update ops.key_job set phase = ?, checkpoint = ?, updated_at = now() where id = ?")
                .params(phase, checkpoint, job.id()).update();
        return new Job(job.id(), job.kind(), job.scope(), phase, checkpoint, job.done(), job.startedAt());
    }

    Job checkpoint(Job job, String checkpoint, long more) {
        jdbc.sql("update ops.key_job set checkpoint = ?, done = done + ?, updated_at = now() where id = ?")
                .params(checkpoint, more, job.id()).update();
        return new Job(job.id(), job.kind(), job.scope(), job.phase(), checkpoint, job.done() + more, job.startedAt());
    }

    /** Audits the end of the job and marks it finished; returns null, the end of its steps. */
    Job finish(Job job) {
        audit(kindOf(job).resource() + "/rotation-finished", job.scope());
        jdbc.sql("""
                update ops.key_job set state = 'finished', phase = 'done', finished_at = now(), updated_at = now()
                where id = ?""").param(job.id()).update();
        return null;
    }

    /** Keeps a job below the configured rows per second, leaving the database to live traffic. */
    void throttle(long beganNanos, int rows) {
        if (properties.reencryptRate() <= 0 || rows == 0) {
            return;
        }
        long minimumNanos = rows * 1_000_000_000L / properties.reencryptRate();
        long spent = System.nanoTime() - beganNanos;
        if (spent < minimumNanos) {
            sleep((minimumNanos - spent) / 1_000_000);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Audits a step of a job, as the system. */
    void audit(String resource, String patient) {
        events.publishEvent(new KeyLifecycleEvent(SYSTEM_ACTOR, resource, patient));
    }

    // ---- status -------------------------------------------------------------------------------

    @Override
    public Status status() {
        return status(countDeks());
    }

    /**
     * The status with data-key counts at most {@code maxAge} old: the metrics refresh every few
     * seconds, and counting every patient's keys is a scan of the keyring (issue 13 item 6). An
     * explicit {@link #status()} (the CLI, the console) counts afresh and renews these counts too.
     */
    Status statusWithRecentCounts(Duration maxAge) {
        KeyringStore.DekCounts last = lastCounts;
        return status(last != null && last.countedAt().plus(maxAge).isAfter(Instant.now()) ? last : countDeks());
    }

    /** The data-key counts the last status used. */
    KeyringStore.DekCounts lastCounts() {
        KeyringStore.DekCounts last = lastCounts;
        return last != null ? last : countDeks();
    }

    private KeyringStore.DekCounts countDeks() {
        KeyringStore.DekCounts counted = store.countDeks();
        lastCounts = counted;
        return counted;
    }

    private Status status(KeyringStore.DekCounts counts) {
        counters.flush();
        long warning = properties.encryptionWarning();
        List<Key> keys = new ArrayList<>();
        for (KeyringStore.KeyVersion v : store.versions(KekRing.KIND)) {
            keys.add(new Key("kek", v.keyId(), v.version(), v.createdAt(), v.state(), v.encryptions(),
                    v.encryptions() >= warning));
        }
        for (KeyringStore.KeyVersion v : store.versions(TinkBlindIndex.KIND)) {
            // HMAC keys: the AES-GCM message bound does not apply, so they are not counted.
            keys.add(new Key("index-root", v.keyId(), v.version(), v.createdAt(), v.state(), -1, false));
        }
        keys.addAll(stateKeys.status());
        Map<String, Object> extremes = store.dekExtremes();
        long most = ((Number) extremes.get("most")).longValue();
        Object oldest = extremes.get("oldest");
        keys.add(new Key("dek-summary", counts.keysets() + " keysets, " + counts.keys() + " keys", 0,
                oldest == null ? null : ((Timestamp) oldest).toInstant(), "active", most, most >= warning));
        for (KeyringStore.DekKey dek : store.liveDekKeys(10)) {
            keys.add(new Key("dek", dek.keyRef() + "#" + dek.keyId(), 0, dek.createdAt(), "active",
                    dek.encryptions(), dek.encryptions() >= warning));
        }
        List<KeyRotation.Job> jobs = jdbc.sql("""
                select id, kind, scope, phase, state, done, started_at, updated_at from ops.key_job
                order by (state = 'running') desc, started_at desc limit 10""")
                .query((rs, n) -> new KeyRotation.Job(rs.getObject(1, UUID.class), rs.getString(2),
                        rs.getString(3), rs.getString(4), rs.getString(5), rs.getLong(6),
                        rs.getTimestamp(7).toInstant(), rs.getTimestamp(8).toInstant()))
                .list();
        return new Status(keys, jobs, warning);
    }

    @Override
    public void destroy() {
        hsm.close();
        kekRewrap.close();
    }
}
