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
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
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
 * installation's own shredding requests, and the ledger heads the audit trail records at every
 * append, answer (ADR 0040, ADR 0046).
 *
 * <p>Every line names its installation (a random id kept in the keyring, {@link #INSTALLATION_NAME}).
 * A line is {@code pending}, {@code committed} or {@code rolled-back}; a shredding counts unless its
 * request's last line says it rolled back and no line says it committed: a pending line whose
 * outcome nobody wrote (the node died between the two) is applied by a restore, since shredding
 * must never be undone by one (ADR 0046). Bytes after the last newline shorter than one line are a
 * write a crash or a full disk cut off: never forced, so its approval never committed. Readers
 * ignore them; the next append closes them with a newline and names their SHA-256 in its own MACed
 * line ({@code skipped}), so nothing is ever cut from the file and the chain stays verifiable (the
 * ledger can live on append-only storage). Anything longer, anything that starts with the chain's
 * next authentic line followed by other bytes (newlines taken out), and any complete line that
 * does not parse and is not covered by the next line's {@code skipped} is refused (ADR 0046, s8
 * review H1).
 */
public final class ShreddingLedger {

    /** The ledger MAC key's name among the keyring's system secrets (32 random bytes, KEK-wrapped). */
    public static final String MAC_KEY_NAME = "shredding-ledger-hmac-sha256";
    /** Written before the approval commits: the shredding may still roll back. */
    public static final String PENDING = "pending";
    /** Written after the approval committed: the shredding happened. */
    public static final String COMMITTED = "committed";
    /** Written after the approval rolled back: the shredding did not happen (unless a later line says it did). */
    public static final String ROLLED_BACK = "rolled-back";
    /** The installation id's name among the keyring's system secrets (16 random bytes; in every line). */
    public static final String INSTALLATION_NAME = "shredding-ledger-installation";

    /** The principal of the audit events that record ledger heads ({@link Head#resource}); a restore finds them by it. */
    public static final String HEAD_RECORDER = "system:shredding-ledger";

    /** Format 2 (ADR 0046): lines name their installation; format 1 lines do not authenticate. */
    private static final byte[] MAC_DOMAIN = "carapace-shredding-ledger/2\n".getBytes(StandardCharsets.US_ASCII);
    private static final Set<String> STATES = Set.of(PENDING, COMMITTED, ROLLED_BACK);
    private static final Pattern INSTALLATION = Pattern.compile("[0-9a-f]{32}");
    /**
     * Appends of this JVM, one at a time: a file lock is held per process, so two threads locking
     * the same file through two channels would throw OverlappingFileLockException (s7 review finding 4).
     */
    private static final ReentrantLock APPENDING = new ReentrantLock();
    private static final String FIRST_PREVIOUS = "0".repeat(64);
    private static final int MAX_LINE = 4096;
    private static final byte[] NEWLINE = {'\n'};
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();
    private static final Pattern COMPARTMENT =
            Pattern.compile("Patient/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Pattern HEX_MAC = Pattern.compile("[0-9a-f]{64}");

    /** One approved shredding. */
    public record Entry(String compartment, UUID request, Instant approvedAt, String requestedBy, String approvedBy) {}

    /**
     * What one line says: its place in the chain, the installation that wrote it, the state of the
     * shredding, the previous line's MAC, and (only after a torn write) the SHA-256 of the bytes
     * between the previous line and this one, which this line skips: a torn write closed by a newline.
     */
    public record Line(long seq, String installation, String state, Entry entry, String previous,
            @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
            String skipped) {}

    /**
     * A ledger's head: which ledger (the first 16 hex digits of its first line's MAC), how many
     * lines, and the last line's MAC. Recorded in the audit trail at every append (a copy outside
     * the ledger's host: the trail is sealed, witnessed and streamed off the node), so a restore can
     * tell a ledger cut short or replaced by another chain.
     */
    public record Head(String ledger, long seq, String mac) {
        private static final Pattern TEXT = Pattern.compile("([0-9a-f]{16}):([1-9][0-9]{0,17}):([0-9a-f]{64})");
        private static final Pattern RESOURCE =
                Pattern.compile("/backup/shredding-ledger/([0-9a-f]{16})/([1-9][0-9]{0,17})/([0-9a-f]{64})");

        /** The audit event's resource that records this head. */
        public String resource() {
            return "/backup/shredding-ledger/" + ledger + "/" + seq + "/" + mac;
        }

        /** The head an audit event's resource records, if it records one. */
        public static Optional<Head> fromResource(String resource) {
            java.util.regex.Matcher m = RESOURCE.matcher(resource == null ? "" : resource);
            return m.matches() ? Optional.of(new Head(m.group(1), Long.parseLong(m.group(2)), m.group(3)))
                    : Optional.empty();
        }

        /** Parses {@code LEDGER:SEQ:MAC} as {@link #toString} writes it. */
        public static Optional<Head> parse(String text) {
            java.util.regex.Matcher m = TEXT.matcher(text == null ? "" : text.strip());
            return m.matches() ? Optional.of(new Head(m.group(1), Long.parseLong(m.group(2)), m.group(3)))
                    : Optional.empty();
        }

        @Override
        public String toString() {
            return ledger + ":" + seq + ":" + mac;
        }
    }

    /**
     * What an append did: the ledger's new head, and how many bytes of a torn last line its line
     * skipped (closed with a newline and named by their SHA-256 in the new line; 0 almost always).
     */
    public record Appended(Head head, long tornBytesSkipped) {}

    /** A line as read: what it says, its JSON exactly as written, and its MAC. */
    private record Written(Line line, byte[] json, String mac) {}

    /** A ledger read whole; nothing of it is trusted before {@link #verify} has checked every line. */
    public static final class Ledger {
        private final String name;
        private final List<Written> lines;
        /** Bytes after the last newline (a torn write), shorter than one line; empty almost always. */
        private final byte[] tornTail;
        /** Bytes of torn writes that later lines skipped (and name by hash). */
        private final long skippedBytes;
        /** Whether the file's last byte is not a newline (a torn tail, or a last line that lacks only it). */
        private final boolean unterminated;

        private Ledger(String name, List<Written> lines, byte[] tornTail, long skippedBytes, boolean unterminated) {
            this.name = name;
            this.lines = List.copyOf(lines);
            this.tornTail = tornTail;
            this.skippedBytes = skippedBytes;
            this.unterminated = unterminated;
        }

        /** Bytes after the last complete line: a write cut off by a crash or a full disk, ignored. */
        public long tornTailBytes() {
            return tornTail.length;
        }

        /** Bytes of earlier torn writes that later lines skipped, each named by hash in the line after it. */
        public long skippedBytes() {
            return skippedBytes;
        }

        /** The head (empty for an empty ledger); trust it only after {@link #verify}. */
        public Optional<Head> head() {
            return lines.isEmpty() ? Optional.empty()
                    : Optional.of(new Head(lines.get(0).mac().substring(0, 16), lines.size(),
                            lines.get(lines.size() - 1).mac()));
        }

        /** Whether this ledger is {@code head}'s and holds its line {@code seq} with that MAC (call {@link #verify} first). */
        public boolean reaches(Head head) {
            return !lines.isEmpty() && lines.get(0).mac().startsWith(head.ledger()) && lines.size() >= head.seq()
                    && lines.get((int) head.seq() - 1).mac().equals(head.mac());
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
         * edited, removed, reordered, or added without the key. Returns the ledger to use from then
         * on: a torn tail that is the chain's next authentic line lacking only its newline counts as
         * that line; one that starts with it and goes on is refused (newlines taken out).
         */
        public Ledger verify(byte[] key, String installation) {
            String previous = FIRST_PREVIOUS;
            long seq = 0;
            for (Written written : lines) {
                seq++;
                authenticate(written, key, installation, seq, previous, name);
                previous = written.mac();
            }
            if (tornTail.length == 0) {
                return this;
            }
            // A torn tail that starts with the chain's next authentic line was written whole: only its
            // newline is missing (a crash between the last byte and the newline). It counts, which is
            // the safe side. Followed by anything else, the newlines were taken out: tampering.
            Written next = startingLine(tornTail);
            if (next == null || !MessageDigest.isEqual(mac(key, next.json()).getBytes(StandardCharsets.US_ASCII),
                    next.mac().getBytes(StandardCharsets.US_ASCII))) {
                return this;
            }
            int length = next.json().length + 1 + next.mac().length();
            if (length != tornTail.length || next.line().skipped() != null) {
                throw new BackupRefused(BackupRefused.REFUSED, "the shredding ledger " + name + " ends in an "
                        + "authentic line followed by other bytes instead of a newline: newlines were taken out of it "
                        + "(tampering); restore the ledger from its off-host copy");
            }
            authenticate(next, key, installation, seq + 1, previous, name);
            List<Written> promoted = new ArrayList<>(lines);
            promoted.add(next);
            return new Ledger(name, promoted, new byte[0], skippedBytes, true);
        }

        private static void authenticate(Written written, byte[] key, String installation, long seq, String previous,
                String name) {
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
            if (!written.line().installation().equals(installation)) {
                throw new BackupRefused(BackupRefused.REFUSED, "line " + seq + " of the shredding ledger " + name
                        + " was written by another installation (" + written.line().installation() + ")");
            }
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
         * The shreddings whose last line is pending, with no committed line: the node stopped
         * between the approval's commit (or its failure) and the line saying which (call
         * {@link #verify} first). A restore applies them (ADR 0046).
         */
        public List<Entry> unconfirmed() {
            Set<UUID> committed = new java.util.HashSet<>();
            committed().forEach(entry -> committed.add(entry.request()));
            Map<UUID, Written> last = new LinkedHashMap<>();
            for (Written written : lines) {
                last.put(written.line().entry().request(), written);
            }
            return last.values().stream()
                    .filter(written -> written.line().state().equals(PENDING)
                            && !committed.contains(written.line().entry().request()))
                    .map(written -> written.line().entry())
                    .toList();
        }

        /** Every request any line names (call {@link #verify} first). */
        public Set<UUID> requests() {
            Set<UUID> requests = new java.util.HashSet<>();
            lines.forEach(written -> requests.add(written.line().entry().request()));
            return requests;
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
     * lock on the file (nodes or processes sharing it append one at a time) and a lock of this JVM
     * (its threads too). The ledger is verified first: nothing is appended to a ledger that does not
     * authenticate (the approval then fails). The file is opened for appending only and never cut
     * (append-only storage such as {@code chattr +a} works): a torn tail is closed with a newline and
     * named by its SHA-256 in the new line's MACed {@code skipped}; a write that fails leaves a torn
     * tail the next append covers the same way.
     */
    public static Appended append(Path ledger, byte[] key, String installation, String state, Entry entry)
            throws IOException {
        if (!STATES.contains(state)) {
            throw new IllegalArgumentException("A ledger line is pending, committed or rolled-back");
        }
        if (!INSTALLATION.matcher(installation).matches()) {
            throw new IllegalArgumentException("An installation id is 32 hex digits");
        }
        if (!complete(entry)) {
            throw new IllegalArgumentException("A ledger line names a patient compartment, its request and when it was approved");
        }
        create(ledger);
        APPENDING.lock();
        // Two channels: READ and APPEND cannot share one. The reader is declared first so that it
        // closes last, after the lock is released (closing any descriptor of the file drops a POSIX lock).
        try (FileChannel reader = FileChannel.open(ledger, StandardOpenOption.READ);
                FileChannel writer = FileChannel.open(ledger, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
                FileLock lock = writer.lock()) {
            Ledger current = parse(ledger.getFileName().toString(), readAll(reader)).verify(key, installation);
            long seq = current.lines.size() + 1L;
            String previous = current.lines.isEmpty() ? FIRST_PREVIOUS : current.lines.get(current.lines.size() - 1).mac();
            byte[] torn = current.tornTail;
            // The torn bytes stay where they are: a newline closes them, and the new line names their hash.
            String skipped = torn.length == 0 ? null : sha256(concat(torn, NEWLINE));
            byte[] json = JSON.writeValueAsBytes(new Line(seq, installation, state, entry, previous, skipped));
            String mac = mac(key, json);
            byte[] line = (new String(json, StandardCharsets.UTF_8) + "\t" + mac + "\n").getBytes(StandardCharsets.UTF_8);
            if (line.length > MAX_LINE) {
                // Checked before writing: a line no reader accepts would block every later append.
                throw new IllegalArgumentException("A shredding ledger line would exceed " + MAX_LINE + " bytes");
            }
            ByteBuffer buffer = ByteBuffer.wrap(current.unterminated ? concat(NEWLINE, line) : line);
            while (buffer.hasRemaining()) {
                writer.write(buffer);
            }
            writer.force(true);
            String first = current.lines.isEmpty() ? mac : current.lines.get(0).mac();
            return new Appended(new Head(first.substring(0, 16), seq, mac), torn.length);
        } finally {
            APPENDING.unlock();
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
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] != '\n') {
            end--;
        }
        // Bytes after the last newline: a line whose write a crash or a full disk cut off (or the
        // zeros a file system leaves there), never forced, so its approval never committed. A crash
        // tears one line at most: a longer tail is someone's edit (newlines taken out), refused.
        byte[] torn = Arrays.copyOfRange(bytes, end, bytes.length);
        if (torn.length >= MAX_LINE) {
            throw new BackupRefused(BackupRefused.REFUSED, "the shredding ledger " + name + " ends in " + torn.length
                    + " bytes after its last newline, more than one line: not a torn write but an edit (newlines "
                    + "taken out); restore the ledger from its off-host copy");
        }
        List<Written> lines = new ArrayList<>();
        long skippedBytes = 0;
        int uncoveredFrom = -1; // where a complete line that is not a ledger line starts, until a line covers it
        int uncoveredNumber = 0;
        int number = 0;
        for (int at = 0; at < end; ) {
            int newline = at;
            while (bytes[newline] != '\n') {
                newline++;
            }
            number++;
            Written written = wellFormed(Arrays.copyOfRange(bytes, at, newline));
            if (written == null) {
                if (uncoveredFrom < 0) {
                    uncoveredFrom = at;
                    uncoveredNumber = number;
                }
            } else if (uncoveredFrom >= 0 || written.line().skipped() != null) {
                // A line naming skipped bytes: exactly the bytes since the last line, a torn write of at
                // most one line that its append closed with a newline. Its MAC covers the hash.
                byte[] gap = Arrays.copyOfRange(bytes, uncoveredFrom < 0 ? at : uncoveredFrom, at);
                if (written.line().skipped() == null || gap.length == 0 || gap.length > MAX_LINE
                        || !written.line().skipped().equals(sha256(gap))) {
                    throw new BackupRefused(BackupRefused.REFUSED, "line " + (uncoveredFrom < 0 ? number : uncoveredNumber)
                            + " of the shredding ledger " + name + " is not a ledger line");
                }
                skippedBytes += gap.length;
                uncoveredFrom = -1;
                lines.add(written);
            } else {
                lines.add(written);
            }
            at = newline + 1;
        }
        if (uncoveredFrom >= 0) {
            throw new BackupRefused(BackupRefused.REFUSED, "line " + uncoveredNumber + " of the shredding ledger " + name
                    + " is not a ledger line");
        }
        return new Ledger(name, lines, torn, skippedBytes, torn.length > 0);
    }

    /** The first line of {@code bytes} if it is a well-formed ledger line (JSON, a tab, 64 hex digits), else null. */
    private static Written startingLine(byte[] bytes) {
        int tab = 0;
        while (tab < bytes.length && bytes[tab] != '\t') {
            tab++;
        }
        return tab + 65 > bytes.length ? null : wellFormed(Arrays.copyOfRange(bytes, 0, tab + 65));
    }

    /** {@code content} (a line without its newline) as a well-formed ledger line, or null. */
    private static Written wellFormed(byte[] content) {
        if (content.length > MAX_LINE) {
            return null;
        }
        int tab = content.length - 1;
        while (tab >= 0 && content[tab] != '\t') {
            tab--;
        }
        if (tab < 0) {
            return null;
        }
        String mac = new String(content, tab + 1, content.length - tab - 1, StandardCharsets.UTF_8);
        if (!HEX_MAC.matcher(mac).matches()) {
            return null;
        }
        byte[] json = Arrays.copyOfRange(content, 0, tab);
        try {
            Line parsed = JSON.readValue(json, Line.class);
            if (!complete(parsed.entry()) || parsed.state() == null
                    || !STATES.contains(parsed.state()) || parsed.installation() == null
                    || !INSTALLATION.matcher(parsed.installation()).matches()
                    || parsed.previous() == null || !HEX_MAC.matcher(parsed.previous()).matches()
                    || (parsed.skipped() != null && !HEX_MAC.matcher(parsed.skipped()).matches())) {
                return null;
            }
            return new Written(parsed, json, mac);
        } catch (JacksonException e) {
            return null;
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is unavailable", e);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    private static boolean complete(Entry entry) {
        return entry != null && entry.compartment() != null && COMPARTMENT.matcher(entry.compartment()).matches()
                && entry.request() != null && entry.approvedAt() != null;
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
