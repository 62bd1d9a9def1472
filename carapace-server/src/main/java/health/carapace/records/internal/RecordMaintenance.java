package health.carapace.records.internal;

import health.carapace.crypto.EncryptedRecords;
import health.carapace.crypto.KeyDestroyedException;
import health.carapace.crypto.RecordCipher;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The records side of key rotation (ADR 0010): re-encrypts stored versions under their
 * compartment's new primary key and rewrites blind-index tokens under a new index key, in
 * batches in primary-key order, so that the crypto module's jobs can checkpoint and resume.
 *
 * <p>Re-encryption changes only the ciphertext column (the one column the application role may
 * update), keeps the associated data (type/id/version/compartment), and writes a row only if it
 * still holds the ciphertext that was read (compare-and-set), so repeating a batch is harmless.
 */
final class RecordMaintenance implements EncryptedRecords {

    private record Version(String type, UUID id, long version, String compartment, byte[] ciphertext) {}

    private final JdbcClient jdbc;
    private final JdbcTemplate batches;
    private final RecordCipher cipher;
    private final RecordStore store;
    private final SearchIndexer indexer;
    private final TransactionTemplate transactions;

    RecordMaintenance(DataSource dataSource, RecordCipher cipher, RecordStore store, SearchIndexer indexer,
            TransactionTemplate transactions) {
        this.jdbc = JdbcClient.create(dataSource);
        this.batches = new JdbcTemplate(dataSource);
        this.cipher = cipher;
        this.store = store;
        this.indexer = indexer;
        this.transactions = transactions;
    }

    @Override
    public String name() {
        return "phi.resource_version";
    }

    @Override
    public Batch reencrypt(String compartment, String cursor, int limit) {
        // Crypto-shredded compartments have no key left: their ciphertexts stay as they are.
        StringBuilder sql = new StringBuilder("""
                select resource_type, resource_id, version, compartment, ciphertext from phi.resource_version v
                where ciphertext is not null and not %s""".formatted(RecordStore.SHREDDED_VERSION));
        List<Object> args = new ArrayList<>();
        if (compartment != null) {
            sql.append(" and compartment = ?");
            args.add(compartment);
        }
        if (cursor != null) {
            String[] parts = cursor.split("/", 3);
            sql.append(" and (resource_type, resource_id, version) > (?, ?, ?)");
            args.add(parts[0]);
            args.add(UUID.fromString(parts[1]));
            args.add(Long.parseLong(parts[2]));
        }
        sql.append(" order by resource_type, resource_id, version limit ?");
        args.add(limit);
        List<Version> rows = jdbc.sql(sql.toString()).params(args)
                .query((rs, n) -> new Version(rs.getString(1), rs.getObject(2, UUID.class), rs.getLong(3),
                        rs.getString(4), rs.getBytes(5)))
                .list();
        // AES-GCM is cheap next to the round trips; spread it over the cores anyway.
        List<Object[]> updates = rows.parallelStream().map(this::reencrypted).filter(Objects::nonNull).toList();
        int changed = 0;
        if (!updates.isEmpty()) {
            for (int count : batches.batchUpdate("""
                    update phi.resource_version set ciphertext = ?
                    where resource_type = ? and resource_id = ? and version = ? and ciphertext = ?""", updates)) {
                changed += Math.max(count, 0);
            }
        }
        String next = rows.size() < limit ? null : cursorOf(rows.get(rows.size() - 1));
        return new Batch(next, rows.size(), changed);
    }

    private Object[] reencrypted(Version row) {
        try {
            return cipher.reencryptIfStale(row.compartment(), row.ciphertext(),
                            RecordStore.associatedData(row.type(), row.id(), row.version(), row.compartment()))
                    .map(fresh -> new Object[] {fresh, row.type(), row.id(), row.version(), row.ciphertext()})
                    .orElse(null);
        } catch (KeyDestroyedException shredded) {
            // The keyring's tombstone: shredded since the batch was read, nothing to re-encrypt. Any other
            // KeyUnavailableException fails the batch: the HSM or keyring away (the job resumes from its
            // checkpoint), or a key missing without a tombstone (KeyMissingException, ADR 0049: the job stops
            // until an operator restores the keyring, rather than passing over records it cannot read).
            return null;
        }
    }

    private static String cursorOf(Version row) {
        return row.type() + "/" + row.id() + "/" + row.version();
    }

    @Override
    public void scanKeyPrefixes(String compartment, int prefixBytes, java.util.function.BiConsumer<String, byte[]> sink) {
        var query = jdbc.sql("select compartment, substring(ciphertext from 1 for ?) from phi.resource_version v"
                + " where ciphertext is not null and not " + RecordStore.SHREDDED_VERSION
                + (compartment != null ? " and compartment = ?" : "") + " group by 1, 2").param(prefixBytes);
        if (compartment != null) {
            query = query.param(compartment);
        }
        query.query(rs -> {
            sink.accept(rs.getString(1), rs.getBytes(2));
        });
    }

    @Override
    public Batch reindex(String cursor, int limit) {
        return transactions.execute(status -> {
            StringBuilder sql = new StringBuilder("""
                    select r.resource_type, r.resource_id, r.current_version, v.compartment, r.last_updated,
                           r.deleted, v.ciphertext, %s
                    from phi.resource r join phi.resource_version v
                      on v.resource_type = r.resource_type and v.resource_id = r.resource_id
                     and v.version = r.current_version
                    where not r.deleted""".formatted(RecordStore.SHREDDED_VERSION));
            List<Object> args = new ArrayList<>();
            if (cursor != null) {
                String[] parts = cursor.split("/", 2);
                sql.append(" and (r.resource_type, r.resource_id) > (?, ?)");
                args.add(parts[0]);
                args.add(UUID.fromString(parts[1]));
            }
            // Locking the resource rows keeps a concurrent update from interleaving with the rewrite.
            sql.append(" order by r.resource_type, r.resource_id limit ? for update of r");
            args.add(limit);
            List<RecordStore.Row> rows = jdbc.sql(sql.toString()).params(args)
                    .query((rs, n) -> new RecordStore.Row(rs.getString(1), rs.getObject(2, UUID.class), rs.getLong(3),
                            rs.getString(4), rs.getTimestamp(5).toInstant(), rs.getBoolean(6), rs.getBytes(7), rs.getBoolean(8)))
                    .list();
            int keyVersion = indexer.activeVersion();
            List<Object[]> tokens = rows.parallelStream().flatMap(row -> {
                List<Object[]> own = new ArrayList<>();
                if (row.shredded()) {
                    // Crypto-shredded (the PHI tombstone; a node may still cache the key for a few
                    // seconds): its old tokens go, and none replace them.
                    return own.stream();
                }
                try {
                    Resource resource = store.open(row);
                    indexer.addRows(own, row.type(), row.id(), resource, keyVersion);
                } catch (KeyDestroyedException shredded) {
                    // Unreadable for good (crypto-shredded): its old tokens go, and none replace them. A key
                    // that is only unavailable (HSM or keyring away), or missing without a tombstone (ADR 0049),
                    // fails the batch instead, which rolls back: neither ever drops a patient's search tokens.
                }
                return own.stream();
            }).toList();
            Map<String, List<UUID>> byType = new LinkedHashMap<>();
            rows.forEach(row -> byType.computeIfAbsent(row.type(), t -> new ArrayList<>()).add(row.id()));
            byType.forEach((type, ids) -> jdbc.sql(
                            "delete from phi_index.token where resource_type = ? and resource_id = any(?)")
                    .params(type, ids.toArray(UUID[]::new)).update());
            indexer.write(tokens);
            String next = rows.size() < limit ? null
                    : rows.get(rows.size() - 1).type() + "/" + rows.get(rows.size() - 1).id();
            return new Batch(next, rows.size(), rows.size());
        });
    }

    @Override
    public boolean hasTokensOtherThan(int keyVersion) {
        return jdbc.sql("select exists (select 1 from phi_index.token where key_version <> ?)")
                .param(keyVersion).query(Boolean.class).single();
    }
}
