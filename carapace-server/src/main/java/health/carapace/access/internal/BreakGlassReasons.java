package health.carapace.access.internal;

import health.carapace.access.ShreddedPatients;
import health.carapace.crypto.EncryptedStore;
import health.carapace.crypto.KeyDestroyedException;
import health.carapace.crypto.RecordCipher;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Break-glass reasons ({@code iam.break_glass.reason}) as a store of ciphertexts under patient
 * data keys (ADR 0010): the DEK rotation job re-encrypts them with the record versions and keeps
 * every key a reason still names, so that rotation never makes an earlier reason unreadable for
 * the review of emergency accesses.
 *
 * <p>Re-encryption keeps the associated data (grant id and patient) and writes a row only if it
 * still holds the ciphertext that was read (compare-and-set), so repeating a batch is harmless.
 */
@Component
public final class BreakGlassReasons implements EncryptedStore {


    private record Reason(UUID grantId, String patient, byte[] ciphertext) {}

    private final JdbcClient jdbc;
    private final JdbcTemplate batches;
    private final RecordCipher cipher;
    /** The tombstone the records module keeps: a shredded patient's reasons are left alone. */
    private final ShreddedPatients shredded;

    BreakGlassReasons(DataSource dataSource, RecordCipher cipher, ShreddedPatients shredded) {
        this.jdbc = JdbcClient.create(dataSource);
        this.batches = new JdbcTemplate(dataSource);
        this.cipher = cipher;
        this.shredded = shredded;
    }

    /** Binds a reason's ciphertext to its grant and patient: it cannot be moved to another row. */
    public static byte[] associatedData(UUID grantId, String patient) {
        return ("carapace/break-glass/" + grantId + "|" + patient).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String name() {
        return "iam.break_glass";
    }

    @Override
    public Batch reencrypt(String compartment, String cursor, int limit) {
        StringBuilder sql = new StringBuilder("select grant_id, patient, reason from iam.break_glass b where true");
        List<Object> args = new ArrayList<>();
        if (compartment != null) {
            sql.append(" and patient = ?");
            args.add(compartment);
        }
        if (cursor != null) {
            sql.append(" and grant_id > ?");
            args.add(UUID.fromString(cursor));
        }
        sql.append(" order by grant_id limit ?");
        args.add(limit);
        List<Reason> rows = jdbc.sql(sql.toString()).params(args)
                .query((rs, n) -> new Reason(rs.getObject(1, UUID.class), rs.getString(2), rs.getBytes(3)))
                .list();
        java.util.Set<String> gone = shredded.shreddedAmong(rows.stream().map(Reason::patient).toList());
        List<Object[]> updates = rows.stream().filter(row -> !gone.contains(row.patient())).map(this::reencrypted)
                .filter(Objects::nonNull).toList();
        int changed = 0;
        if (!updates.isEmpty()) {
            for (int count : batches.batchUpdate(
                    "update iam.break_glass set reason = ? where grant_id = ? and reason = ?", updates)) {
                changed += Math.max(count, 0);
            }
        }
        String next = rows.size() < limit ? null : rows.get(rows.size() - 1).grantId().toString();
        return new Batch(next, rows.size(), changed);
    }

    private Object[] reencrypted(Reason row) {
        try {
            return cipher.reencryptIfStale(row.patient(), row.ciphertext(), associatedData(row.grantId(), row.patient()))
                    .map(fresh -> new Object[] {fresh, row.grantId(), row.ciphertext()})
                    .orElse(null);
        } catch (KeyDestroyedException shredded) {
            // The keyring's tombstone (shredded since the batch was read): nothing to re-encrypt. A key that is
            // only unavailable (HSM or keyring away), or missing without a tombstone (ADR 0049), fails the batch.
            return null;
        }
    }

    @Override
    public void scanKeyPrefixes(String compartment, int prefixBytes, java.util.function.BiConsumer<String, byte[]> sink) {
        var query = jdbc.sql("select patient, substring(reason from 1 for ?) from iam.break_glass b"
                + " where reason is not null" + (compartment != null ? " and patient = ?" : "")
                + " group by 1, 2").param(prefixBytes);
        if (compartment != null) {
            query = query.param(compartment);
        }
        List<Map.Entry<String, byte[]>> prefixes = query.query((rs, n) -> Map.entry(rs.getString(1), rs.getBytes(2))).list();
        java.util.Set<String> gone = shredded.shreddedAmong(prefixes.stream().map(Map.Entry::getKey).toList());
        prefixes.stream().filter(prefix -> !gone.contains(prefix.getKey()))
                .forEach(prefix -> sink.accept(prefix.getKey(), prefix.getValue()));
    }
}
