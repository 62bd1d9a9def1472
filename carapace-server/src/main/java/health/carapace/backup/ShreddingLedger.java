package health.carapace.backup;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The shredding ledger (ADR 0033, ADR 0040): for every crypto-shredding approved on this node, a
 * {@code pending} line forced to disk before the approval commits and a {@code committed} line
 * after it, in a file that lives outside both databases and outside every backup
 * ({@code carapace.backup.shredding-ledger}). A restore applies every committed shredding again,
 * so a patient shredded after a backup was made stays shredded when that older backup is restored.
 * It holds references only: the patient's id, the request, when, and the two administrators'
 * principal names.
 *
 * <p>Each line is {@code <json>\t<mac>}: the JSON names its place ({@code seq}, from 1) and the MAC
 * of the line before it ({@code previous}; 64 zeros for the first), and the MAC is HMAC-SHA256
 * over {@code "carapace-shredding-ledger/1\n" + json} with a key kept KEK-wrapped in the keyring
 * ({@link #MAC_KEY_NAME}). So a line that is edited, removed, reordered or added by someone who can
 * write the file but does not hold the KEK is refused at restore. Lines cut off at the end leave a
 * valid shorter chain: that is what the restore's completeness check against the restored
 * installation's own shredding requests answers (ADR 0040).
 */
public final class ShreddingLedger {

    /** The ledger MAC key's name among the keyring's system secrets (32 random bytes, KEK-wrapped). */
    public static final String MAC_KEY_NAME = "shredding-ledger-hmac-sha256";
    /** Written before the approval commits: the shredding may still roll back. */
    public static final String PENDING = "pending";
    /** Written after the approval committed: the shredding happened. */
    public static final String COMMITTED = "committed";

    private static final byte[] MAC_DOMAIN = "carapace-shredding-ledger/1\n".getBytes(StandardCharsets.US_ASCII);
    private static final String FIRST_PREVIOUS = "0".repeat(64);
    private static final int MAX_LINE = 4096;
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();
    private static final Pattern COMPARTMENT =
            Pattern.compile("Patient/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Pattern HEX_MAC = Pattern.compile("[0-9a-f]{64}");

    /** One approved shredding. */
    public record Entry(String compartment, UUID request, Instant approvedAt, String requestedBy, String approvedBy) {}

    /** What one line says: its place in the chain, the state of the shredding, and the previous line's MAC. */
    public record Line(long seq, String state, Entry entry, String previous) {}

    /** A line as read: what it says, its JSON exactly as written, and its MAC. */
    private record Written(Line line, byte[] json, String mac) {}

    /** A ledger read whole; nothing of it is trusted before {@link #verify} has checked every line. */
    public static final class Ledger {
        private final String name;
        private final List<Written> lines;

        private Ledger(String name, List<Written> lines) {
            this.name = name;
            this.lines = List.copyOf(lines);
        }

        /** The file name, for messages. */
        public String name() {
            return name;
        }

        /** Every line in file order, unauthenticated (tests, diagnostics). */
        public List<Line> lines() {
            return lines.stream().map(Written::line).toList();
        }

        /**
         * Checks every line's MAC under {@code key} and the chain (each line's place and the MAC of
         * the one before it): refuses, naming the first line that fails, a ledger with a line
         * edited, removed, reordered, or added without the key.
         */
        public Ledger verify(byte[] key) {
            String previous = FIRST_PREVIOUS;
            long seq = 0;
            for (Written written : lines) {
                seq++;
                if (!MessageDigest.isEqual(mac(key, written.json()).getBytes(StandardCharsets.US_ASCII),
                        written.mac().getBytes(StandardCharsets.US_ASCII))) {
                    throw new BackupRefused(BackupRefused.REFUSED, "line " + seq + " of the shredding ledger " + name
                            + " does not authenticate: it was edited or added by someone without the KEK, or the "
                            + "ledger belongs to another installation");
                }
                if (written.line().seq() != seq || !written.line().previous().equals(previous)) {
                    throw new BackupRefused(BackupRefused.REFUSED, "line " + seq + " of the shredding ledger " + name
                            + " is out of its chain: a line before it was removed, or lines were reordered");
                }
                previous = written.mac();
            }
            return this;
        }

        /** The shreddings with a committed line (call {@link #verify} first). */
        public List<Entry> committed() {
            Map<UUID, Entry> committed = new LinkedHashMap<>();
            for (Written written : lines) {
                if (written.line().state().equals(COMMITTED)) {
                    committed.putIfAbsent(written.line().entry().request(), written.line().entry());
                }
            }
            return List.copyOf(committed.values());
        }

        /**
         * The shreddings with a pending line and no committed one: the approval's commit failed,
         * or the node stopped between the commit and the committed line (call {@link #verify} first).
         */
        public List<Entry> unconfirmed() {
            Set<UUID> committed = new java.util.HashSet<>();
            committed().forEach(entry -> committed.add(entry.request()));
            Map<UUID, Entry> pending = new LinkedHashMap<>();
            for (Written written : lines) {
                UUID request = written.line().entry().request();
                if (written.line().state().equals(PENDING) && !committed.contains(request)) {
                    pending.putIfAbsent(request, written.line().entry());
                }
            }
            return List.copyOf(pending.values());
        }
    }

    private ShreddingLedger() {
    }

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

    /**
     * Appends a line saying {@code state} of {@code entry} and forces it to disk, under an exclusive
     * lock on the file (nodes or processes sharing it append one at a time). The ledger is verified
     * first: nothing is appended to a ledger that does not authenticate (the approval then fails).
     */
    public static void append(Path ledger, byte[] key, String state, Entry entry) throws IOException {
        if (!state.equals(PENDING) && !state.equals(COMMITTED)) {
            throw new IllegalArgumentException("A ledger line is pending or committed");
        }
        create(ledger);
        try (FileChannel channel = FileChannel.open(ledger, StandardOpenOption.READ, StandardOpenOption.WRITE);
                FileLock lock = channel.lock()) {
            Ledger current = parse(ledger.getFileName().toString(), readAll(channel)).verify(key);
            long seq = current.lines.size() + 1L;
            String previous = current.lines.isEmpty() ? FIRST_PREVIOUS : current.lines.get(current.lines.size() - 1).mac();
            byte[] json = JSON.writeValueAsBytes(new Line(seq, state, entry, previous));
            byte[] line = (new String(json, StandardCharsets.UTF_8) + "\t" + mac(key, json) + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            ByteBuffer buffer = ByteBuffer.wrap(line);
            long at = channel.size();
            while (buffer.hasRemaining()) {
                at += channel.write(buffer, at);
            }
            channel.force(true);
        }
    }

    /**
     * Reads a ledger whole; refuses one with a line that is not a ledger line (a ledger that cannot
     * be read whole cannot say that nothing is missing). Authenticate it with {@link Ledger#verify}.
     */
    public static Ledger read(Path ledger) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(ledger);
        } catch (IOException e) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "the shredding ledger " + ledger.getFileName()
                    + " cannot be read (a node creates it, empty, at its first start: a missing ledger was lost)");
        }
        return parse(String.valueOf(ledger.getFileName()), bytes);
    }

    private static Ledger parse(String name, byte[] bytes) {
        List<Written> lines = new ArrayList<>();
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new BackupRefused(BackupRefused.REFUSED, "the shredding ledger " + name + " ends in a partial line");
        }
        int number = 0;
        for (String line : text.isEmpty() ? new String[0] : text.substring(0, text.length() - 1).split("\n", -1)) {
            number++;
            int tab = line.lastIndexOf('\t');
            if (line.length() > MAX_LINE || tab < 0 || !HEX_MAC.matcher(line.substring(tab + 1)).matches()) {
                throw new BackupRefused(BackupRefused.REFUSED, "line " + number + " of the shredding ledger " + name
                        + " is not a ledger line");
            }
            byte[] json = line.substring(0, tab).getBytes(StandardCharsets.UTF_8);
            try {
                Line parsed = JSON.readValue(json, Line.class);
                Entry entry = parsed.entry();
                if (entry == null || entry.compartment() == null || !COMPARTMENT.matcher(entry.compartment()).matches()
                        || entry.request() == null || entry.approvedAt() == null || parsed.state() == null
                        || !(parsed.state().equals(PENDING) || parsed.state().equals(COMMITTED))
                        || parsed.previous() == null || !HEX_MAC.matcher(parsed.previous()).matches()) {
                    throw new BackupRefused(BackupRefused.REFUSED, "line " + number + " of the shredding ledger " + name
                            + " is incomplete");
                }
                lines.add(new Written(parsed, json, line.substring(tab + 1)));
            } catch (JacksonException e) {
                throw new BackupRefused(BackupRefused.REFUSED, "line " + number + " of the shredding ledger " + name
                        + " is not a ledger line");
            }
        }
        return new Ledger(name, lines);
    }

    private static byte[] readAll(FileChannel channel) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
        long at = 0;
        int n;
        while ((n = channel.read(buffer, at)) > 0) {
            out.write(buffer.array(), 0, n);
            at += n;
            buffer.clear();
        }
        return out.toByteArray();
    }

    /** Lowercase hex HMAC-SHA256 over the domain and {@code json} (the JDK's HMAC; nothing hand-made). */
    static String mac(byte[] key, byte[] json) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(MAC_DOMAIN);
            return HexFormat.of().formatHex(mac.doFinal(json));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is unavailable", e);
        }
    }
}
