package health.carapace.crypto.internal;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import health.carapace.crypto.EncryptedRecords;
import health.carapace.crypto.EncryptedStore;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyLifecycleEvent;
import health.carapace.crypto.KeyRotation;
import health.carapace.crypto.KeyUnavailableException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The key rotation jobs (ADR 0010). Each job is a row in {@code ops.key_job} that moves through
 * phases; within a phase, work goes in batches and the checkpoint (the last key_ref or row done)
 * is stored after each. Every step is idempotent: re-wrapping and re-encrypting write only rows
 * still under the old key (compare-and-set), adding a key twice leaves an extra key that the
 * destroy phase removes, and a version is created at most once per job (a version younger than
 * the job is the job's). So a job killed anywhere resumes from its checkpoint and finishes.
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
    private final KeysInUse keysInUse;
    private final KeyringStore store;
    private final KekRing kek;
    private final PatientKeyring deks;
    private final TinkBlindIndex index;
    private final UsageCounters counters;
    private final KeysProperties properties;
    private final ObjectProvider<EncryptedRecords> records;
    private final ObjectProvider<EncryptedStore> stores;
    private final ApplicationEventPublisher events;
    private final ExecutorService hsmWorkers;
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "key-rewrap-writer");
        t.setDaemon(true);
        return t;
    });
    private final int hsmParallelism;

    KeyJobs(DataSource dataSource, KeyringStore store, KekRing kek, PatientKeyring deks, TinkBlindIndex index,
            UsageCounters counters, KeysProperties properties, ObjectProvider<EncryptedRecords> records,
            ObjectProvider<EncryptedStore> stores, ApplicationEventPublisher events) {
        this.dataSource = dataSource;
        this.jdbc = JdbcClient.create(dataSource);
        this.keysInUse = new KeysInUse(dataSource);
        this.store = store;
        this.kek = kek;
        this.deks = deks;
        this.index = index;
        this.counters = counters;
        this.properties = properties;
        this.records = records;
        this.stores = stores;
        this.events = events;
        // Token calls spend much of their time waiting (on the HSM, or for SoftHSM2 on its object
        // files): measured with SoftHSM2 on two cores, 8 threads wrap about twice as fast as 2.
        this.hsmParallelism = Math.max(8, Runtime.getRuntime().availableProcessors() * 4);
        this.hsmWorkers = Executors.newFixedThreadPool(hsmParallelism, r -> {
            Thread t = new Thread(r, "key-rewrap");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public UUID rotateKek(String actor) {
        return start("rewrap-kek", null, "create-version", actor, "/keys/kek/rotation-started");
    }

    @Override
    public UUID rotateDeks(String actor, UUID patient) {
        String scope = patient == null ? null : "Patient/" + patient;
        return start("rotate-deks", scope, "add-keys", actor, "/keys/dek/rotation-started");
    }

    @Override
    public UUID rotateIndexKeys(String actor) {
        return start("reindex", null, "create-version", actor, "/keys/index-root/rotation-started");
    }

    private UUID start(String kind, String scope, String phase, String actor, String resource) {
        UUID id = UUID.randomUUID();
        if (running(kind)) {
            throw new IllegalStateException("A " + kind + " job is already running; it must finish first");
        }
        // Audited before the job exists (fail closed); a lost race below leaves an audited start
        // that the other job's record answers.
        audit(actor, resource, scope);
        try {
            jdbc.sql("insert into ops.key_job (id, kind, scope, phase, state) values (?, ?, ?, ?, 'running')")
                    .params(id, kind, scope, phase).update();
        } catch (DuplicateKeyException running) {
            throw new IllegalStateException("A " + kind + " job is already running; it must finish first");
        }
        return id;
    }

    /** Starts a KEK rotation if the active version is older than the configured maximum age. */
    boolean rotateKekIfDue() {
        KeyringStore.KeyVersion active = kek.versions(true).stream().filter(v -> v.state().equals("active"))
                .findFirst().orElseThrow();
        if (active.createdAt().plus(properties.kekMaxAge()).isAfter(Instant.now()) || running("rewrap-kek")) {
            return false;
        }
        rotateKek(SYSTEM_ACTOR);
        return true;
    }

    private boolean running(String kind) {
        return jdbc.sql("select exists (select 1 from ops.key_job where kind = ? and state = 'running')")
                .param(kind).query(Boolean.class).single();
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
                current = switch (current.kind()) {
                    case "rewrap-kek" -> stepKek(current);
                    case "rotate-deks" -> stepDeks(current);
                    case "reindex" -> stepIndex(current);
                    default -> throw new IllegalStateException("unknown key job kind " + current.kind());
                };
            }
        } catch (RuntimeException e) {
            // The job stays 'running' and resumes from its checkpoint at the next run.
            log.error("A key job step failed; it resumes from its checkpoint at the next run", e);
            throw e;
        }
    }

    // ---- KEK rotation -------------------------------------------------------------------------

    private Job stepKek(Job job) {
        switch (job.phase()) {
            case "create-version" -> {
                KeyringStore.KeyVersion active = kek.activeVersionFresh();
                if (!active.createdAt().isAfter(job.startedAt())) {
                    active = kek.rotate();
                }
                audit(SYSTEM_ACTOR, "/keys/kek/v" + active.version() + "/activated", null);
                return settle(job);
            }
            case "settle" -> {
                return awaitSettled(job, "rewrap");
            }
            case "rewrap" -> {
                return rewrapAll(job);
            }
            case "retire" -> {
                for (KeyringStore.KeyVersion version : kek.versions(true)) {
                    if (!version.state().equals("decrypt-only")) {
                        continue;
                    }
                    if (store.countWrappedBy(version.keyId()) > 0) {
                        // A node with a stale view wrapped under it meanwhile: another pass.
                        return phase(job, "rewrap", null);
                    }
                    audit(SYSTEM_ACTOR, "/keys/kek/v" + version.version() + "/retired", null);
                    store.retire(KekRing.KIND, version.version());
                }
                kek.versions(true);
                return finish(job, "/keys/kek/rotation-finished");
            }
            default -> throw new IllegalStateException("unknown phase " + job.phase());
        }
    }

    /**
     * Re-wraps batch after batch. The database write of one batch overlaps the HSM work of the
     * next; the checkpoint moves only once a batch is written, so a crash redoes at most two
     * batches (harmless: rows already under the active version are no longer selected).
     */
    private Job rewrapAll(Job job) {
        KeyEncryptionKey target = kek.active();
        String after = job.checkpoint() == null ? "" : job.checkpoint();
        Future<Integer> writing = null;
        String writingUpTo = null;
        int writingCount = 0;
        Job current = job;
        while (true) {
            List<KeyringStore.WrappedKey> batch = store.notWrappedBy(target.id(), after, properties.batchSize());
            List<KeyringStore.Rewrite> rewrites = batch.isEmpty() ? List.of() : rewrap(batch, target);
            if (writing != null) {
                await(writing);
                current = checkpoint(current, writingUpTo, writingCount);
                writing = null;
            }
            if (batch.isEmpty()) {
                return phase(current, "retire", null);
            }
            writing = writer.submit(() -> store.compareAndSet(rewrites));
            after = batch.get(batch.size() - 1).keyRef();
            writingUpTo = after;
            writingCount = batch.size();
        }
    }

    private static <T> T await(Future<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while a key job waited", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /** Applies {@code work} to every item on the HSM workers; results in item order. */
    private <T, R> List<R> parallel(List<T> items, java.util.function.Function<T, R> work) {
        List<Future<R>> futures = new ArrayList<>(items.size());
        for (T item : items) {
            futures.add(hsmWorkers.submit(() -> work.apply(item)));
        }
        List<R> results = new ArrayList<>(items.size());
        for (Future<R> future : futures) {
            results.add(await(future));
        }
        return results;
    }

    /** Unwraps with the old version and wraps with the new one, in parallel on the HSM. */
    private List<KeyringStore.Rewrite> rewrap(List<KeyringStore.WrappedKey> batch, KeyEncryptionKey target) {
        int slices = Math.min(hsmParallelism, Math.max(1, batch.size() / 16));
        List<Future<List<KeyringStore.Rewrite>>> futures = new ArrayList<>();
        int per = (batch.size() + slices - 1) / slices;
        for (int from = 0; from < batch.size(); from += per) {
            List<KeyringStore.WrappedKey> slice = batch.subList(from, Math.min(batch.size(), from + per));
            futures.add(hsmWorkers.submit(() -> {
                List<KeyringStore.Rewrite> out = new ArrayList<>(slice.size());
                for (KeyringStore.WrappedKey key : slice) {
                    KeyringStore.Rewrite rewrite = rewrapOne(key, target);
                    if (rewrite != null) {
                        out.add(rewrite);
                    }
                }
                return out;
            }));
        }
        List<KeyringStore.Rewrite> rewrites = new ArrayList<>(batch.size());
        for (Future<List<KeyringStore.Rewrite>> future : futures) {
            try {
                rewrites.addAll(future.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while re-wrapping keys", e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            }
        }
        return rewrites;
    }

    private KeyringStore.Rewrite rewrapOne(KeyringStore.WrappedKey key, KeyEncryptionKey target) {
        byte[] associatedData = key.keyRef().getBytes(StandardCharsets.UTF_8);
        try {
            KeyEncryptionKey old = kek.unwrapping(key.kekId());
            byte[] rewrapped;
            if (key.keyRef().startsWith("secret/")) {
                rewrapped = kek.encryptWith(target, old.decrypt(key.wrapped(), associatedData), associatedData);
            } else {
                KeysetHandle keyset = TinkProtoKeysetFormat.parseEncryptedKeyset(key.wrapped(), old, associatedData);
                rewrapped = TinkProtoKeysetFormat.serializeEncryptedKeyset(keyset, kek.counting(target), associatedData);
            }
            return new KeyringStore.Rewrite(key.keyRef(), target.id(), rewrapped, key.wrapped());
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("A wrapped key cannot be re-wrapped: it does not unwrap under "
                    + key.kekId(), e);
        }
    }

    // ---- DEK rotation -------------------------------------------------------------------------

    /**
     * Every store of ciphertexts under data keys, in a fixed order (by name) so that a checkpoint
     * names a position that means the same after a restart.
     */
    private List<EncryptedStore> encryptedStores() {
        List<EncryptedStore> all = stores.stream().sorted(Comparator.comparing(EncryptedStore::name)).toList();
        if (all.isEmpty()) {
            throw new IllegalStateException("No store of encrypted data is registered");
        }
        return all;
    }

    /**
     * Where a re-encryption pass stands: the index of the store in {@link #encryptedStores()} and
     * that store's cursor (null: its start). Checkpoints read "store-name:cursor"; one without a
     * store name (written before reasons were re-encrypted too) is a cursor of the record versions.
     */
    private record Position(int store, String cursor) {}

    private Position position(List<EncryptedStore> all, String checkpoint) {
        if (checkpoint == null) {
            return new Position(0, null);
        }
        int colon = checkpoint.indexOf(':');
        String name = colon < 0 ? records.getObject().name() : checkpoint.substring(0, colon);
        String cursor = colon < 0 ? checkpoint : checkpoint.substring(colon + 1);
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).name().equals(name)) {
                return new Position(i, cursor.isEmpty() ? null : cursor);
            }
        }
        // Fail closed: skipping a store would let the destroy phase take keys it still needs.
        throw new IllegalStateException("A key job checkpoint names an encrypted store that is not registered");
    }

    private Job stepDeks(Job job) {
        switch (job.phase()) {
            case "add-keys" -> {
                if (job.scope() != null) {
                    // A shredded (or never written) patient has no keyset: nothing to rotate.
                    if (!deks.rotate(job.scope())) {
                        return finish(job, "/keys/dek/rotation-finished");
                    }
                    return settle(checkpoint(job, job.scope(), 1));
                }
                List<String> refs = store.dataKeyRefs(job.checkpoint() == null ? "" : job.checkpoint(),
                        properties.batchSize());
                if (refs.isEmpty()) {
                    return settle(job);
                }
                parallel(refs, ref -> deks.rotate(ref.substring("dek/".length())));
                return checkpoint(job, refs.get(refs.size() - 1), refs.size());
            }
            case "settle" -> {
                return awaitSettled(job, "reencrypt");
            }
            case "reencrypt" -> {
                if (job.checkpoint() == null) {
                    // Start of a pass: re-read every keyset, so that the cache holds the new primaries.
                    deks.invalidateAll();
                }
                List<EncryptedStore> all = encryptedStores();
                Position at = position(all, job.checkpoint());
                EncryptedStore target = all.get(at.store());
                long began = System.nanoTime();
                EncryptedStore.Batch batch = target.reencrypt(job.scope(), at.cursor(), properties.batchSize());
                throttle(began, batch.scanned());
                if (batch.nextCursor() != null) {
                    return checkpoint(job, target.name() + ":" + batch.nextCursor(), batch.scanned());
                }
                if (at.store() + 1 < all.size()) {
                    return checkpoint(job, all.get(at.store() + 1).name() + ":", batch.scanned());
                }
                return phase(job, "destroy", null);
            }
            case "destroy" -> {
                // A key goes only if no store of ciphertexts still names it.
                Map<String, Set<Integer>> inUse = keysInUse.named(encryptedStores(), job.scope());
                boolean leftovers = false;
                long destroyed = 0;
                List<String> compartments = job.scope() != null ? List.of(job.scope()) : null;
                String after = "";
                while (true) {
                    List<String> page = compartments != null ? compartments
                            : store.dataKeyRefs(after, properties.batchSize()).stream()
                                    .map(ref -> ref.substring("dek/".length())).toList();
                    for (PatientKeyring.Removal removal : parallel(page, compartment ->
                            deks.removeUnreferenced(compartment, inUse.getOrDefault(compartment, Set.of())))) {
                        destroyed += removal.removed().size();
                        leftovers |= removal.remaining() > 1;
                    }
                    if (compartments != null || page.isEmpty()) {
                        break;
                    }
                    after = "dek/" + page.get(page.size() - 1);
                }
                if (destroyed > 0) {
                    audit(SYSTEM_ACTOR, "/keys/dek/old-keys-destroyed", job.scope());
                }
                if (leftovers) {
                    // Ciphertexts still name an old key (written by a node whose view was stale).
                    int round = rounds(job);
                    if (round >= MAX_ROUNDS) {
                        throw new IllegalStateException("Old data keys are still referenced after " + round + " passes");
                    }
                    return phase(job, "reencrypt", null);
                }
                return finish(job, "/keys/dek/rotation-finished");
            }
            default -> throw new IllegalStateException("unknown phase " + job.phase());
        }
    }

    // ---- Blind-index key rotation -------------------------------------------------------------

    private Job stepIndex(Job job) {
        EncryptedRecords target = records.getObject();
        switch (job.phase()) {
            case "create-version" -> {
                KeyringStore.KeyVersion active = index.versions(true).stream()
                        .filter(v -> v.state().equals("active")).findFirst().orElseThrow();
                int version = active.createdAt().isAfter(job.startedAt()) ? active.version() : index.rotate();
                audit(SYSTEM_ACTOR, "/keys/index-root/v" + version + "/activated", null);
                return settle(job);
            }
            case "settle" -> {
                return awaitSettled(job, "reindex");
            }
            case "reindex" -> {
                long began = System.nanoTime();
                EncryptedRecords.Batch batch = target.reindex(job.checkpoint(), properties.batchSize());
                throttle(began, batch.scanned());
                if (batch.nextCursor() == null) {
                    return phase(job, "retire", null);
                }
                return checkpoint(job, batch.nextCursor(), batch.scanned());
            }
            case "retire" -> {
                int active = index.versions(true).stream().filter(v -> v.state().equals("active"))
                        .mapToInt(KeyringStore.KeyVersion::version).findFirst().orElseThrow();
                if (target.hasTokensOtherThan(active)) {
                    int round = rounds(job);
                    if (round >= MAX_ROUNDS) {
                        throw new IllegalStateException("Tokens of an old index key remain after " + round + " passes");
                    }
                    return phase(job, "reindex", null);
                }
                for (KeyringStore.KeyVersion version : index.versions(true)) {
                    if (version.state().equals("decrypt-only")) {
                        audit(SYSTEM_ACTOR, "/keys/index-root/v" + version.version() + "/retired", null);
                        index.retire(version.version());
                    }
                }
                return finish(job, "/keys/index-root/rotation-finished");
            }
            default -> throw new IllegalStateException("unknown phase " + job.phase());
        }
    }

    // ---- job bookkeeping ----------------------------------------------------------------------

    /**
     * Every node re-reads which versions are active within the refresh interval; after twice that,
     * no node still encrypts or indexes under the previous version, so a full pass catches all.
     */
    private Job settle(Job job) {
        Instant until = Instant.now().plus(properties.refreshInterval().multipliedBy(2));
        return phase(job, "settle", until.toString());
    }

    private Job awaitSettled(Job job, String next) {
        Instant until = Instant.parse(job.checkpoint());
        long wait = Duration.between(Instant.now(), until).toMillis();
        if (wait > 0) {
            sleep(wait);
        }
        return phase(job, next, null);
    }

    private int rounds(Job job) {
        return jdbc.sql("update ops.key_job set rounds = rounds + 1 where id = ? returning rounds")
                .param(job.id()).query(Integer.class).single();
    }

    private Job phase(Job job, String phase, String checkpoint) {
        jdbc.sql("update ops.key_job set phase = ?, checkpoint = ?, updated_at = now() where id = ?")
                .params(phase, checkpoint, job.id()).update();
        return new Job(job.id(), job.kind(), job.scope(), phase, checkpoint, job.done(), job.startedAt());
    }

    private Job checkpoint(Job job, String checkpoint, long more) {
        jdbc.sql("update ops.key_job set checkpoint = ?, done = done + ?, updated_at = now() where id = ?")
                .params(checkpoint, more, job.id()).update();
        return new Job(job.id(), job.kind(), job.scope(), job.phase(), checkpoint, job.done() + more, job.startedAt());
    }

    private Job finish(Job job, String resource) {
        audit(SYSTEM_ACTOR, resource, job.scope());
        jdbc.sql("""
                update ops.key_job set state = 'finished', phase = 'done', finished_at = now(), updated_at = now()
                where id = ?""").param(job.id()).update();
        return null;
    }

    /** Keeps a job below the configured rows per second, leaving the database to live traffic. */
    private void throttle(long beganNanos, int rows) {
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

    private void audit(String actor, String resource, String patient) {
        events.publishEvent(new KeyLifecycleEvent(actor, resource, patient));
    }

    // ---- status -------------------------------------------------------------------------------

    @Override
    public Status status() {
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
        Map<String, Object> summary = store.dekSummary();
        long most = ((Number) summary.get("most")).longValue();
        Object oldest = summary.get("oldest");
        keys.add(new Key("dek-summary", ((Number) summary.get("keysets")).longValue() + " keysets, "
                + ((Number) summary.get("keys")).longValue() + " keys", 0,
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
        hsmWorkers.shutdownNow();
        writer.shutdownNow();
    }
}
