package health.carapace.audit.internal;

import health.carapace.audit.AuditIntegrity;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/** {@link AuditIntegrity} from {@link AuditHealth}, the tree heads and the witness file's tail. */
@Component
class AuditIntegrityStatus implements AuditIntegrity {

    private static final Pattern TREE_SIZE = Pattern.compile("\"tree_size\":(\\d+)");
    /** Longer than any witness line, so the tail always holds the whole last one. */
    private static final int TAIL_BYTES = 4096;

    private final AuditHealth health;
    private final WitnessDirectory witness;
    private final JdbcClient jdbc;

    AuditIntegrityStatus(AuditHealth health, WitnessDirectory witness, DataSource dataSource) {
        this.health = health;
        this.witness = witness;
        this.jdbc = JdbcClient.create(dataSource);
    }

    @Override
    public Status status(Instant headsSignedBefore) {
        AuditHealth.Snapshot snapshot = health.snapshot();
        long signedBefore = jdbc.sql("""
                select coalesce(max(tree_size), -1) from audit.tree_head where signed_at < ?""")
                .param(Timestamp.from(headsSignedBefore)).query(Long.class).single();
        var last = snapshot.lastVerification();
        return new Status(last.map(AuditHealth.LastVerification::finishedAt).orElse(null),
                last.map(AuditHealth.LastVerification::ok).orElse(true), snapshot.oldestUnsealed(), signedBefore,
                lastWitnessedSize());
    }

    /** The tree size on the witness file's last complete line; -1 when there is none or it cannot be read. */
    private long lastWitnessedSize() {
        var file = witness.file();
        if (!Files.isRegularFile(file)) {
            return -1;
        }
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            long length = in.length();
            int size = (int) Math.min(length, TAIL_BYTES);
            byte[] tail = new byte[size];
            in.seek(length - size);
            in.readFully(tail);
            String text = new String(tail, StandardCharsets.UTF_8);
            int end = text.lastIndexOf('\n');
            if (end < 0) {
                return -1;
            }
            String lastLine = text.substring(text.lastIndexOf('\n', end - 1) + 1, end);
            Matcher m = TREE_SIZE.matcher(lastLine);
            return m.find() ? Long.parseLong(m.group(1)) : -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }
}
