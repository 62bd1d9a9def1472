package health.carapace.crypto.internal;

import health.carapace.crypto.EncryptedStore;
import health.carapace.crypto.RecordCipher;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Which data keys stored ciphertexts still name: the one place that decides it, because a key
 * left out here is destroyed by the DEK rotation job and every record under it becomes
 * unrecoverable. Each {@link EncryptedStore} says where its ciphertexts are; this reads the Tink
 * prefix (version byte and key id, see {@link RecordCipher#keyIdOf}) of every one of them.
 */
final class KeysInUse {

    /** Bytes of a Tink ciphertext's output prefix: one version byte and the four-byte key id. */
    private static final int TINK_PREFIX = 5;

    private final JdbcClient jdbc;

    KeysInUse(DataSource dataSource) {
        this.jdbc = JdbcClient.create(dataSource);
    }

    /**
     * Key ids named per compartment, over every store; crypto-shredded compartments are left out.
     *
     * @param compartment only this compartment, or null for all
     */
    Map<String, Set<Integer>> named(List<EncryptedStore> stores, String compartment) {
        Map<String, Set<Integer>> inUse = new HashMap<>();
        for (EncryptedStore store : stores) {
            EncryptedStore.CiphertextColumn column = store.ciphertexts();
            String sql = "select " + column.compartment() + ", substring(" + column.ciphertext() + " from 1 for "
                    + TINK_PREFIX + ") from " + column.table() + " where " + column.ciphertext()
                    + " is not null and not (" + column.shredded() + ")"
                    + (compartment != null ? " and " + column.compartment() + " = ?" : "") + " group by 1, 2";
            var query = jdbc.sql(sql);
            if (compartment != null) {
                query = query.param(compartment);
            }
            query.query((rs, n) -> Map.entry(rs.getString(1), rs.getBytes(2))).list().forEach(row -> {
                Integer keyId = RecordCipher.keyIdOf(row.getValue());
                if (keyId != null) {
                    inUse.computeIfAbsent(row.getKey(), k -> new HashSet<>()).add(keyId);
                }
            });
        }
        return inUse;
    }
}
