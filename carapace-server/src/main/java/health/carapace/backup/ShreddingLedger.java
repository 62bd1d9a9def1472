package health.carapace.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The shredding ledger (ADR 0033): one line per crypto-shredding approved on this node, appended
 * (and forced to disk) before the approval commits, in a file that lives outside both databases
 * and outside every backup ({@code carapace.backup.shredding-ledger}). A restore applies every
 * shredding the ledger lists again, so a patient shredded after a backup was made stays shredded
 * when that older backup is restored. It holds references only: the patient's id, the request,
 * when, and the two administrators' principal names.
 */
public final class ShreddingLedger {

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();
    private static final Pattern COMPARTMENT =
            Pattern.compile("Patient/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    private ShreddingLedger() {
    }

    /** One executed approval. */
    public record Entry(String compartment, UUID request, Instant approvedAt, String requestedBy, String approvedBy) {}

    /** Creates the ledger, private (0600), unless it exists. */
    public static void create(Path ledger) throws IOException {
        if (!Files.exists(ledger)) {
            try {
                Files.createFile(ledger, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // another node or thread created it first
            }
        }
    }

    /** Appends {@code entry} and forces it to disk. */
    public static void append(Path ledger, Entry entry) throws IOException {
        byte[] line = (JSON.writeValueAsString(entry) + "\n").getBytes(StandardCharsets.UTF_8);
        create(ledger);
        try (FileChannel channel = FileChannel.open(ledger, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ByteBuffer buffer = ByteBuffer.wrap(line);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
    }

    /**
     * Reads a ledger; refuses one with a line that is not an entry (a ledger that cannot be read
     * whole cannot say that nothing is missing).
     */
    public static List<Entry> read(Path ledger) {
        List<String> lines;
        try {
            lines = Files.readAllLines(ledger, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "the shredding ledger " + ledger.getFileName()
                    + " cannot be read (a node creates it, empty, at its first start: a missing ledger was lost)");
        }
        List<Entry> entries = new ArrayList<>();
        int number = 0;
        for (String line : lines) {
            number++;
            if (line.isBlank()) {
                continue;
            }
            try {
                Entry entry = JSON.readValue(line, Entry.class);
                if (entry.compartment() == null || !COMPARTMENT.matcher(entry.compartment()).matches()
                        || entry.request() == null || entry.approvedAt() == null) {
                    throw new BackupRefused(BackupRefused.UNUSABLE, "line " + number + " of the shredding ledger is "
                            + "incomplete");
                }
                entries.add(entry);
            } catch (JacksonException e) {
                throw new BackupRefused(BackupRefused.UNUSABLE, "line " + number + " of the shredding ledger is not a "
                        + "ledger entry");
            }
        }
        return entries;
    }
}
