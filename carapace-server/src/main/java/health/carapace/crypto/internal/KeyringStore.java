package health.carapace.crypto.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import health.carapace.crypto.KeyUnavailableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import org.flywaydb.core.Flyway;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The keyring table, reached through a connection pool of its own and a database role of its
 * own. Nothing outside the crypto module can obtain this pool, and the PHI role has no grant on
 * the keyring schema, so a SQL injection in the record path cannot read wrapped keys.
 */
final class KeyringStore implements DisposableBean {

    record WrappedKey(String keyRef, String kekId, byte[] wrapped) {}

    /** A version of a top-level key (the KEK, the index root key); see keyring migration V2. */
    record KeyVersion(String kind, int version, String keyId, String state, Instant createdAt, Instant retiredAt,
            long encryptions) {}

    /** One key inside a compartment keyset, with its persisted encryption count. */
    record DekKey(String keyRef, long keyId, Instant createdAt, long encryptions) {}

    /** A rewritten wrapped key, stored only if the row still holds {@code expected}. */
    record Rewrite(String keyRef, String kekId, byte[] wrapped, byte[] expected) {}

    /** Advisory lock key ("carapace" in ASCII) serialising KEK creation across nodes. */
    private static final long KEK_CREATION_LOCK = 0x6361726170616365L;

    /** Advisory lock class ("shre") for per-compartment locks: key creation versus shredding. */
    static final int COMPARTMENT_LOCK_CLASS = 0x73687265;
    static final String DEK_PREFIX = "dek/";

    private final HikariDataSource pool;
    private final JdbcClient jdbc;
    private final JdbcTemplate batches;
    private final TransactionTemplate transactions;
    private final java.time.Duration connectionWait;

    KeyringStore(KeyringProperties properties) {
        this(properties, java.time.Duration.ofSeconds(30));
    }

    /** {@code connectionWait}: as the PHI pool's ({@code carapace.db.connection-wait}). */
    KeyringStore(KeyringProperties properties, java.time.Duration connectionWait) {
        // several hosts (a replicated cluster): only ever the primary, as the PHI pool
        String url = health.carapace.platform.config.DatabaseFailover.url(properties.url());
        // No connection while a restore works on this database (its own database or the PHI one), except
        // the restore's own: a node starting meanwhile must not migrate an empty keyring (s7 review finding 7).
        String gate = health.carapace.platform.config.RestoreGate.finishingRestore() ? null
                : health.carapace.platform.config.RestoreGate.CHECK;
        Flyway.configure()
                .dataSource(url, properties.ownerUsernameOrDefault(), properties.ownerPasswordOrDefault())
                .initSql(gate)
                .locations("classpath:db/keyring")
                .schemas("keyring")
                .placeholders(java.util.Map.of("keyring_role", properties.username()))
                .load()
                .migrate();
        HikariConfig config = new HikariConfig();
        config.setPoolName("keyring");
        config.setJdbcUrl(url);
        config.setUsername(properties.username());
        config.setPassword(properties.password());
        // Rotation jobs use up to eight connections at once (one per HSM worker); requests need some too.
        config.setMaximumPoolSize(12);
        config.setMinimumIdle(2);
        // As the PHI pool: while the keyring is unreachable a request is refused (503) after this.
        config.setConnectionTimeout(connectionWait.toMillis());
        config.setConnectionInitSql(gate);
        // The tombstone check under the compartment lock needs a snapshot taken after the lock is
        // granted: READ COMMITTED, whatever default_transaction_isolation a DBA sets (review L1).
        config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        health.carapace.platform.config.DatabaseFailover.configure(config);
        this.pool = new HikariDataSource(config);
        this.jdbc = JdbcClient.create(pool);
        this.batches = new JdbcTemplate(pool);
        this.transactions = new TransactionTemplate(new JdbcTransactionManager(pool));
        this.connectionWait = connectionWait;
    }

    /** How long a request waits for a keyring connection before it is refused. */
    java.time.Duration connectionWait() {
        return connectionWait;
    }

    /** The database user the keyring pool connects as (for the key separation check). */
    String currentUser() {
        return jdbc.sql("select current_user::text").query(String.class).single();
    }

    /**
     * Runs {@code action} holding a keyring-wide PostgreSQL advisory lock: every node opening the
     * KEK takes it, so that "is the keyring empty, then may I create the KEK" is decided and acted
     * on by one node at a time. The lock is tied to the session, so a node that dies releases it.
     */
    <T> T withKekCreationLock(Supplier<T> action) {
        try (Connection connection = pool.getConnection()) {
            try (PreparedStatement lock = connection.prepareStatement("select pg_advisory_lock(?)")) {
                lock.setLong(1, KEK_CREATION_LOCK);
                lock.execute();
            }
            try {
                return action.get();
            } finally {
                try (PreparedStatement unlock = connection.prepareStatement("select pg_advisory_unlock(?)")) {
                    unlock.setLong(1, KEK_CREATION_LOCK);
                    unlock.execute();
                }
            }
        } catch (SQLException e) {
            throw new KeyUnavailableException("Cannot take the keyring lock needed to open the KEK", e);
        }
    }

    /** Whether the keyring database answers now (readiness). */
    /** The keyring's own pool (readiness probes it). */
    javax.sql.DataSource pool() {
        return pool;
    }

    boolean isEmpty() {
        return jdbc.sql("select not exists (select 1 from keyring.wrapped_key)").query(Boolean.class).single();
    }

    Optional<WrappedKey> find(String keyRef) {
        return jdbc.sql("select key_ref, kek_id, wrapped from keyring.wrapped_key where key_ref = ?")
                .param(keyRef)
                .query((rs, n) -> new WrappedKey(rs.getString(1), rs.getString(2), rs.getBytes(3)))
                .optional();
    }

    /** Stores a key unless another node stored one first; the caller then reads the winner. */
    void insertIfAbsent(String keyRef, String kekId, byte[] wrapped) {
        jdbc.sql("insert into keyring.wrapped_key (key_ref, kek_id, wrapped) values (?, ?, ?) on conflict do nothing")
                .params(keyRef, kekId, wrapped)
                .update();
    }

    List<KeyVersion> versions(String kind) {
        return jdbc.sql("""
                select kind, version, key_id, state, created_at, retired_at, encryptions
                from keyring.key_version where kind = ? order by version""")
                .param(kind)
                .query((rs, n) -> new KeyVersion(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getString(4),
                        rs.getTimestamp(5).toInstant(),
                        rs.getTimestamp(6) == null ? null : rs.getTimestamp(6).toInstant(), rs.getLong(7)))
                .list();
    }

    /**
     * Records version 1 of a key that predates versioning (or was just created), dated by the
     * oldest wrapped key if there is one. Idempotent across nodes.
     */
    void insertFirstVersion(String kind, String keyId) {
        jdbc.sql("""
                insert into keyring.key_version (kind, version, key_id, state, created_at)
                select ?, 1, ?, 'active', coalesce((select min(created_at) from keyring.wrapped_key), now())
                where not exists (select 1 from keyring.key_version where kind = ?)
                on conflict do nothing""")
                .params(kind, keyId, kind)
                .update();
    }

    /**
     * Makes {@code keyId} the active version of {@code kind}; the previous active version becomes
     * decrypt-only. One transaction, so that there is always exactly one active version.
     */
    void activate(String kind, int version, String keyId) {
        transactions.executeWithoutResult(status -> {
            jdbc.sql("select pg_advisory_xact_lock(?)").param(KEK_CREATION_LOCK + 1).query().listOfRows();
            boolean known = jdbc.sql("select exists (select 1 from keyring.key_version where key_id = ?)")
                    .param(keyId).query(Boolean.class).single();
            if (known) {
                return;
            }
            jdbc.sql("update keyring.key_version set state = 'decrypt-only' where kind = ? and state = 'active'")
                    .param(kind).update();
            jdbc.sql("insert into keyring.key_version (kind, version, key_id, state) values (?, ?, ?, 'active')")
                    .params(kind, version, keyId).update();
        });
    }

    void retire(String kind, int version) {
        jdbc.sql("""
                update keyring.key_version set state = 'retired', retired_at = now()
                where kind = ? and version = ? and state = 'decrypt-only'""")
                .params(kind, version).update();
    }

    /** Wrapped keys not wrapped by {@code kekId}, in key_ref order after {@code afterRef}. */
    List<WrappedKey> notWrappedBy(String kekId, String afterRef, int limit) {
        return jdbc.sql("""
                select key_ref, kek_id, wrapped from keyring.wrapped_key
                where key_ref > ? and kek_id <> ? order by key_ref limit ?""")
                .params(afterRef, kekId, limit)
                .query((rs, n) -> new WrappedKey(rs.getString(1), rs.getString(2), rs.getBytes(3)))
                .list();
    }

    long countWrappedBy(String kekId) {
        return jdbc.sql("select count(*) from keyring.wrapped_key where kek_id = ?").param(kekId)
                .query(Long.class).single();
    }

    /** Key refs of rotatable data keys (patients and the shared compartment), in order. */
    List<String> dataKeyRefs(String afterRef, int limit) {
        return jdbc.sql("""
                select key_ref from keyring.wrapped_key
                where key_ref > ? and (key_ref like 'dek/Patient/%' or key_ref = 'dek/shared')
                order by key_ref limit ?""")
                .params(afterRef, limit)
                .query(String.class)
                .list();
    }


    /**
     * Crypto-shredding: records {@code compartment} as shredded and deletes every wrapped data key
     * of it (every version: any key reference under {@code dek/<compartment>}), in one keyring
     * transaction. Serialised with key creation for the same compartment by a transaction-scoped
     * advisory lock, so a key being created concurrently is either deleted here or never created.
     * The per-key rows of rotation ({@code keyring.dek_key}: key ids, counters) go too, so that key
     * status no longer lists them. Idempotent; returns how many wrapped keys it deleted.
     */
    int shred(String compartment, UUID requestId) {
        return transactions.execute(status -> {
            lockCompartment(compartment);
            jdbc.sql("insert into keyring.shredded_compartment (compartment, request_id) values (?, ?) on conflict do nothing")
                    .params(compartment, requestId)
                    .update();
            // A patient compartment is 'Patient/<uuid>': fixed length, so the prefix names no other compartment.
            jdbc.sql("delete from keyring.dek_key where starts_with(key_ref, ?)")
                    .param(DEK_PREFIX + compartment)
                    .update();
            return jdbc.sql("delete from keyring.wrapped_key where starts_with(key_ref, ?)")
                    .param(DEK_PREFIX + compartment)
                    .update();
        });
    }

    boolean isShredded(String compartment) {
        return jdbc.sql("select exists (select 1 from keyring.shredded_compartment where compartment = ?)")
                .param(compartment)
                .query(Boolean.class)
                .single();
    }

    /** How many compartments are shredded (tombstones are only ever added). */
    long shreddedCount() {
        return jdbc.sql("select count(*) from keyring.shredded_compartment").query(Long.class).single();
    }

    /** Which of {@code compartments} are shredded (for evicting cached keys on every node). */
    List<String> shreddedAmong(Collection<String> compartments) {
        if (compartments.isEmpty()) {
            return List.of();
        }
        return jdbc.sql("select compartment from keyring.shredded_compartment where compartment = any(?)")
                .param(compartments.toArray(String[]::new))
                .query(String.class)
                .list();
    }

    /**
     * Stores rewritten keys in one batch; a row changed meanwhile (another rotation, a shredding
     * that deleted it) is left alone. Returns how many rows were written.
     */
    int compareAndSet(List<Rewrite> rewrites) {
        if (rewrites.isEmpty()) {
            return 0;
        }
        int[][] counts = batches.batchUpdate(
                "update keyring.wrapped_key set kek_id = ?, wrapped = ? where key_ref = ? and wrapped = ?",
                rewrites, rewrites.size(), (ps, r) -> {
                    ps.setString(1, r.kekId());
                    ps.setBytes(2, r.wrapped());
                    ps.setString(3, r.keyRef());
                    ps.setBytes(4, r.expected());
                });
        int written = 0;
        for (int[] batch : counts) {
            for (int count : batch) {
                written += Math.max(count, 0);
            }
        }
        return written;
    }

    void addKekEncryptions(Map<String, Long> counts) {
        counts.forEach((keyId, count) -> jdbc.sql(
                        "update keyring.key_version set encryptions = encryptions + ? where key_id = ?")
                .params(count, keyId).update());
    }

    /** Adds encryption counts per (key_ref, Tink key id), creating the rows of keys not yet seen. */
    void addDekEncryptions(Map<Map.Entry<String, Long>, Long> counts) {
        if (counts.isEmpty()) {
            return;
        }
        int size = counts.size();
        String[] keyRefs = new String[size];
        Long[] keyIds = new Long[size];
        Long[] added = new Long[size];
        int i = 0;
        for (var entry : counts.entrySet()) {
            keyRefs[i] = entry.getKey().getKey();
            keyIds[i] = entry.getKey().getValue();
            added[i] = entry.getValue();
            i++;
        }
        // One statement for every key of the flush (under a create load one new row per new patient),
        // rows taken in key order so that two nodes flushing at once lock them in the same order.
        // Counts flushed after a shredding must not bring back rows of the shredded keys.
        jdbc.sql("""
                insert into keyring.dek_key (key_ref, key_id, created_at, encryptions)
                select u.key_ref, u.key_id,
                       coalesce((select w.created_at from keyring.wrapped_key w where w.key_ref = u.key_ref), now()), u.added
                from unnest(?::text[], ?::bigint[], ?::bigint[]) as u(key_ref, key_id, added)
                where not exists (select 1 from keyring.shredded_compartment s
                                  where s.compartment = substring(u.key_ref from 5))
                order by u.key_ref, u.key_id
                on conflict (key_ref, key_id) do update set encryptions = keyring.dek_key.encryptions + excluded.encryptions""")
                .params(keyRefs, keyIds, added)
                .update();
    }

    /**
     * Key references of wrapped keys under {@code prefix} (for example every state keyset), in order;
     * never data keys. The {@code not starts_with(key_ref, 'dek/')} clause lets PostgreSQL use the
     * small partial index of keyring V6 instead of scanning one row per patient (issue 13: 224 ms a
     * call at 100,000 patients, on every key status and metrics refresh).
     */
    static final String KEY_REFS_BY_PREFIX = "select key_ref from keyring.wrapped_key"
            + " where not starts_with(key_ref, 'dek/') and starts_with(key_ref, ?) order by key_ref";

    List<String> keyRefsStartingWith(String prefix) {
        if (prefix.startsWith(DEK_PREFIX)) {
            throw new IllegalArgumentException("data keys are not listed by prefix");
        }
        return jdbc.sql(KEY_REFS_BY_PREFIX)
                .param(prefix)
                .query(String.class)
                .list();
    }

    /** Notes a key of a state keyset with its creation time (the first note wins: idempotent across nodes). */
    void recordStateKey(String keyRef, long keyId, Instant createdAt) {
        jdbc.sql("insert into keyring.dek_key (key_ref, key_id, created_at) values (?, ?, ?) on conflict do nothing")
                .params(keyRef, keyId, java.sql.Timestamp.from(createdAt)).update();
    }

    /** The live (not destroyed) keys of one keyset, oldest first. */
    List<DekKey> liveKeysOf(String keyRef) {
        return jdbc.sql("""
                select key_ref, key_id, created_at, encryptions from keyring.dek_key
                where key_ref = ? and destroyed_at is null order by created_at, key_id""")
                .param(keyRef)
                .query((rs, n) -> new DekKey(rs.getString(1), rs.getLong(2), rs.getTimestamp(3).toInstant(),
                        rs.getLong(4)))
                .list();
    }

    /** Notes a key added to a keyset (creation or rotation), so that its age is known. */
    void recordDekKey(String keyRef, long keyId) {
        jdbc.sql("""
                insert into keyring.dek_key (key_ref, key_id) select ?, ?
                where not exists (select 1 from keyring.shredded_compartment where compartment = substring(? from 5))
                on conflict do nothing""")
                .params(keyRef, keyId, keyRef).update();
    }

    void markDekKeysDestroyed(String keyRef, List<Long> keyIds) {
        for (long keyId : keyIds) {
            jdbc.sql("""
                    insert into keyring.dek_key (key_ref, key_id, destroyed_at) select ?, ?, now()
                    where not exists (select 1 from keyring.shredded_compartment where compartment = substring(? from 5))
                    on conflict (key_ref, key_id) do update set destroyed_at = now()""")
                    .params(keyRef, keyId, keyRef).update();
        }
    }

    /** Live data keys (not destroyed, keyset still present), most used first. */
    List<DekKey> liveDekKeys(int limit) {
        return jdbc.sql("""
                select d.key_ref, d.key_id, d.created_at, d.encryptions from keyring.dek_key d
                where d.destroyed_at is null and d.key_ref like 'dek/%'
                  and exists (select 1 from keyring.wrapped_key w where w.key_ref = d.key_ref)
                order by d.encryptions desc, d.created_at limit ?""")
                .param(limit)
                .query((rs, n) -> new DekKey(rs.getString(1), rs.getLong(2), rs.getTimestamp(3).toInstant(),
                        rs.getLong(4)))
                .list();
    }

    /** The TLS state of this pool's connection and the server's version, as the database reports them (asset inventory). */
    String connectionTls() {
        return jdbc.sql("""
                select case when ssl then 'TLS ' || version || ' ' || cipher else 'no TLS' end
                       || ', PostgreSQL ' || current_setting('server_version')
                from pg_stat_ssl where pid = pg_backend_pid()""")
                .query(String.class).optional().orElse("unknown");
    }

    /**
     * Oldest creation and most encryptions of live data keys (of all compartments), from the
     * live-key indexes (V4): two index probes, whatever the number of patients.
     */
    Map<String, Object> dekExtremes() {
        return jdbc.sql("""
                select (select d.created_at from keyring.dek_key d
                        where d.destroyed_at is null and d.key_ref like 'dek/%'
                          and exists (select 1 from keyring.wrapped_key w where w.key_ref = d.key_ref)
                        order by d.created_at limit 1) as oldest,
                       coalesce((select d.encryptions from keyring.dek_key d
                        where d.destroyed_at is null and d.key_ref like 'dek/%'
                          and exists (select 1 from keyring.wrapped_key w where w.key_ref = d.key_ref)
                        order by d.encryptions desc, d.created_at limit 1), 0) as most""")
                .query().singleRow();
    }

    /** How many data keysets and live data keys there are, and when they were counted. */
    record DekCounts(long keysets, long keys, Instant countedAt) {}

    /**
     * Counts every data keyset and live data key: a scan of each table, so linear in the number of
     * patients (about 50 ms each at 236,000 keysets). The count needs no join with the keysets
     * because shredding deletes a compartment's key rows with its keyset.
     */
    DekCounts countDeks() {
        return jdbc.sql("""
                select (select count(*) from keyring.wrapped_key where key_ref like 'dek/%') as keysets,
                       (select count(*) from keyring.dek_key where destroyed_at is null and key_ref like 'dek/%') as keys""")
                .query((rs, n) -> new DekCounts(rs.getLong(1), rs.getLong(2), Instant.now()))
                .single();
    }

    /** Live data keys (of all compartments) with at least {@code threshold} encryptions. */
    long dekKeysAtOrOver(long threshold) {
        return jdbc.sql("""
                select count(*) from keyring.dek_key d where d.destroyed_at is null and d.encryptions >= ?
                  and exists (select 1 from keyring.wrapped_key w where w.key_ref = d.key_ref)""")
                .param(threshold)
                .query(Long.class).single();
    }

    /**
     * A compartment's wrapped data key, if it has one, and whether the keyring records it as
     * shredded: the two questions a cache miss that may create a key asks, in one statement
     * instead of two round trips (issue 13 item 5). Only a hint for a missing key: the
     * tombstone that counts is checked again under the compartment lock when a key is stored
     * ({@link #insertDataKeysUnlessShredded}).
     */
    record Lookup(Optional<WrappedKey> key, boolean shredded) {}

    Lookup lookUp(String compartment, String keyRef) {
        return jdbc.sql("""
                select w.key_ref, w.kek_id, w.wrapped,
                       exists (select 1 from keyring.shredded_compartment s where s.compartment = ?)
                from (select 1) as one left join keyring.wrapped_key w on w.key_ref = ?""")
                .params(compartment, keyRef)
                .query((rs, n) -> new Lookup(
                        rs.getString(1) == null ? Optional.empty()
                                : Optional.of(new WrappedKey(rs.getString(1), rs.getString(2), rs.getBytes(3))),
                        rs.getBoolean(4)))
                .single();
    }

    /** A data key to store for a compartment: its key reference and the keyset wrapped by the KEK. */
    record NewDataKey(String compartment, String keyRef, byte[] wrapped) {}

    /**
     * The transaction's timeouts, the compartments' locks, then one insert of every key unless its
     * compartment is shredded: three statements in one round trip, in one keyring transaction (one
     * commit for them all). The only way a data key is first stored (ADR 0052, 0057): a
     * transaction Bundle's new patients, or the new patients of concurrent requests gathered by
     * {@link FirstKeyGroupCommit}. For each key: the insert is a statement of its own that starts
     * once every lock is granted (in READ COMMITTED a statement's snapshot is taken when it starts),
     * so it sees the tombstone of a shredding that held one before us; a key another node stored
     * first is kept and returned instead. A compartment missing from the answer is shredded. Each
     * compartment at most once. Locks taken in one order (by lock key, then name: two names may share
     * a key) by every caller that takes several, so two such transactions cannot wait for each other
     * in a cycle.
     */
    java.util.Map<String, WrappedKey> insertDataKeysUnlessShredded(String kekId, List<NewDataKey> keys) {
        List<NewDataKey> sorted = keys.stream().sorted(java.util.Comparator.comparing(NewDataKey::compartment)).toList();
        if (sorted.stream().map(NewDataKey::compartment).distinct().count() != sorted.size()) {
            // the insert would skip the second row and the answer below would call it stored
            throw new IllegalArgumentException("a compartment's first key is given twice");
        }
        // Bounded (ADR 0057): a lock held elsewhere or a statement that does not return fails this
        // transaction after the keyring's connection wait, on the server (its own timeouts, local to this
        // transaction) and on a connection that stops answering (the driver's network timeout, which the
        // pool resets when the connection comes back), instead of holding every new patient's key waiting.
        int boundMillis = (int) Math.min(Integer.MAX_VALUE, connectionWait.toMillis());
        return transactions.execute(status -> {
            java.util.Set<String> inserted = batches.execute(
                    (org.springframework.jdbc.core.ConnectionCallback<java.util.Set<String>>) connection -> {
                connection.setNetworkTimeout(Runnable::run, boundMillis + 5_000);
                try (PreparedStatement statement = connection.prepareStatement(LOCKS_THEN_INSERT_UNLESS_SHREDDED)) {
                    String[] compartments = sorted.stream().map(NewDataKey::compartment).toArray(String[]::new);
                    statement.setString(1, boundMillis + "ms");
                    statement.setString(2, boundMillis + "ms");
                    statement.setInt(3, COMPARTMENT_LOCK_CLASS);
                    statement.setArray(4, connection.createArrayOf("text", compartments));
                    statement.setString(5, kekId);
                    statement.setArray(6, connection.createArrayOf("text", compartments));
                    statement.setArray(7, connection.createArrayOf("text",
                            sorted.stream().map(NewDataKey::keyRef).toArray(String[]::new)));
                    statement.setArray(8, connection.createArrayOf("bytea",
                            sorted.stream().map(NewDataKey::wrapped).toArray(byte[][]::new)));
                    statement.execute(); // the timeouts' row
                    if (!statement.getMoreResults()) { // the locks' rows
                        throw new SQLException("the keyring locks returned no rows");
                    }
                    if (!statement.getMoreResults()) {
                        throw new SQLException("the keyring insert returned no rows");
                    }
                    java.util.Set<String> stored = new java.util.HashSet<>();
                    try (java.sql.ResultSet rs = statement.getResultSet()) {
                        while (rs.next()) {
                            stored.add(rs.getString(1));
                        }
                    }
                    return stored;
                }
            });
            java.util.Map<String, WrappedKey> now = new java.util.HashMap<>();
            for (NewDataKey key : sorted) {
                if (inserted.contains(key.keyRef())) {
                    now.put(key.compartment(), new WrappedKey(key.keyRef(), kekId, key.wrapped()));
                } else {
                    // still under the lock: another node's key came first, or the compartment is shredded
                    find(key.keyRef()).ifPresent(stored -> now.put(key.compartment(), stored));
                }
            }
            return now;
        });
    }

    private static final String LOCKS_THEN_INSERT_UNLESS_SHREDDED = """
            select set_config('statement_timeout', ?, true), set_config('lock_timeout', ?, true);
            select pg_advisory_xact_lock(?, hashtext(c.compartment))
            from (select compartment from unnest(?::text[]) as u(compartment)
                  order by hashtext(compartment), compartment collate "C") as c;
            insert into keyring.wrapped_key (key_ref, kek_id, wrapped)
            select k.key_ref, ?, k.wrapped from unnest(?::text[], ?::text[], ?::bytea[]) as k(compartment, key_ref, wrapped)
            where not exists (select 1 from keyring.shredded_compartment s where s.compartment = k.compartment)
            on conflict do nothing
            returning key_ref""";

    private void lockCompartment(String compartment) {
        jdbc.sql("select pg_advisory_xact_lock(?, hashtext(?))")
                .params(COMPARTMENT_LOCK_CLASS, compartment)
                .query((rs, n) -> 1)
                .list();
    }

    @Override
    public void destroy() {
        pool.close();
    }
}
