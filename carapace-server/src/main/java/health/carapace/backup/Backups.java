package health.carapace.backup;

import com.google.crypto.tink.KeysetHandle;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditQueries;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditVerifier;
import health.carapace.backup.internal.PostgresTools;
import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyRotation;
import health.carapace.crypto.KeyShredder;
import health.carapace.crypto.SystemSecrets;
import health.carapace.disposal.Shredding;
import health.carapace.records.Compartment;
import health.carapace.records.PatientRecords;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Makes a backup of the installation it runs in, and finishes a restore once the databases are
 * loaded (ADR 0033). A backup is two files, the PHI database and the keyring, from one consistent
 * point each: one snapshot for both when the keyring is a schema of the PHI database; otherwise
 * the PHI database's snapshot first and the keyring's after it, with key jobs held off in between,
 * so that every data key a stored record names is in the keyring file.
 */
@Service
public class Backups {

    /** The installation's manifest signing key, stored KEK-wrapped in the keyring. */
    static final String SIGNING_KEY_NAME = "backup-manifest-ed25519";
    private static final Duration KEY_JOB_WAIT = Duration.ofMinutes(5);

    private final Environment settings;
    private final SystemSecrets secrets;
    private final KeyEncryptionKey kek;
    private final KeyRotation keyJobs;
    private final KeyShredder shredder;
    private final PatientRecords records;
    private final Shredding shreddings;
    private final AuditTrail audit;
    private final AuditVerifier verifier;
    private final AuditQueries trail;
    private final TransactionTemplate transactions;
    private final Clock clock;

    Backups(Environment settings, SystemSecrets secrets, KeyEncryptionKey kek, KeyRotation keyJobs, KeyShredder shredder,
            PatientRecords records, Shredding shreddings, AuditTrail audit, AuditVerifier verifier, AuditQueries trail,
            PlatformTransactionManager transactionManager, Clock clock) {
        this.settings = settings;
        this.secrets = secrets;
        this.kek = kek;
        this.keyJobs = keyJobs;
        this.shredder = shredder;
        this.records = records;
        this.shreddings = shreddings;
        this.audit = audit;
        this.verifier = verifier;
        this.trail = trail;
        this.transactions = new TransactionTemplate(transactionManager);
        this.clock = clock;
    }

    /**
     * A backup written: its directory and signed manifest, and each shredding ledger's latest head the
     * audit trail recorded when it was made (for the operator to keep off-host; ADR 0049).
     */
    public record Made(Path directory, BackupArchive.Manifest manifest, List<ShreddingLedger.Head> ledgerHeads) {}

    /** A snapshot held open by its exporting transaction until the dumps have imported it. */
    private record Point(String snapshot, String at) {}

    /**
     * Writes a backup into {@code out} (a new or empty directory, made private).
     *
     * @param recipient the backup public key, or null for {@code carapace.backup.public-key}
     */
    public Made make(Path out, KeysetHandle recipient, String operator, Progress progress) {
        KeysetHandle sealedTo = recipient != null ? recipient : configuredRecipient();
        DatabaseTarget.Pair targets = DatabaseTarget.of(settings);
        prepare(out);
        try {
            return writeInto(out, sealedTo, targets, operator, progress);
        } catch (RuntimeException e) {
            // A backup is whole or absent: a half-written directory is not left to be mistaken for one.
            for (String name : List.of(BackupArchive.PHI_FILE, BackupArchive.KEYRING_FILE, BackupArchive.MANIFEST,
                    BackupArchive.MANIFEST_SIGNATURE)) {
                try {
                    Files.deleteIfExists(out.resolve(name));
                } catch (IOException cleanupFailed) {
                    e.addSuppressed(cleanupFailed);
                }
            }
            throw e;
        }
    }

    /**
     * The public half of this installation's manifest-signing key, for the operator to keep apart
     * from the backups and pin by its id ({@code carapace.backup.signing-key-id}; ADR 0040). It is
     * never written into a backup.
     */
    public java.security.PublicKey signingPublicKey() {
        return signingKey().getPublic();
    }

    private Made writeInto(Path out, KeysetHandle sealedTo, DatabaseTarget.Pair targets, String operator, Progress progress) {
        KeyPair signing = signingKey();
        String pinned = settings.getProperty("carapace.backup.signing-key-id", "");
        if (!pinned.isBlank() && !pinned.strip().equalsIgnoreCase(BackupArchive.signingKeyId(signing.getPublic()))) {
            // A backup its own installation's restore would refuse is no backup: say so now, not at the restore.
            throw new BackupRefused(BackupRefused.UNUSABLE, "carapace.backup.signing-key-id is not this installation's "
                    + "backup signing key (" + BackupArchive.signingKeyId(signing.getPublic()) + "): pin the id "
                    + "./carapace backup signing-key prints");
        }
        String consistency = targets.sameDatabase() ? "one-snapshot" : "phi-then-keyring";
        try (Connection phiSession = BackupLoader.connect(targets.phi());
                Connection keyringSession = targets.sameDatabase() ? null : BackupLoader.connect(targets.keyring())) {
            Point phiPoint;
            Point keyringPoint;
            if (keyringSession == null) {
                phiPoint = export(phiSession);
                keyringPoint = phiPoint;
            } else {
                // Keyring last: every key a PHI row names existed at the PHI point and is only ever
                // destroyed by a key job (held off here) or by shredding (applied again at restore).
                try (KeyRotation.JobHold held = holdKeyJobs()) {
                    phiPoint = export(phiSession);
                    keyringPoint = export(keyringSession);
                }
            }
            progress.report("snapshot: " + consistency + " at " + phiPoint.at()
                    + (keyringSession == null ? "" : ", keyring at " + keyringPoint.at()));
            Map<String, String> versions = Map.of(
                    BackupArchive.PHI, schemaVersion(phiSession, "public"),
                    BackupArchive.KEYRING, schemaVersion(keyringSession == null ? phiSession : keyringSession, "keyring"));
            BackupArchive.FileEntry phiFile = write(out.resolve(BackupArchive.PHI_FILE), BackupArchive.PHI, targets.phi(),
                    phiPoint, List.of("--exclude-schema=keyring"), sealedTo, progress);
            BackupArchive.FileEntry keyringFile = write(out.resolve(BackupArchive.KEYRING_FILE), BackupArchive.KEYRING,
                    targets.keyring(), keyringPoint, List.of("--schema=keyring"), sealedTo, progress);
            BackupArchive.Manifest manifest = new BackupArchive.Manifest(BackupArchive.FORMAT, BackupArchive.VERSION,
                    clock.instant().toString(), operator, consistency, phiPoint.at(), keyringPoint.at(), versions,
                    kek.id(), BackupArchive.keyId(sealedTo), BackupArchive.signingKeyId(signing.getPublic()),
                    List.of(phiFile, keyringFile));
            byte[] manifestBytes = manifest.toBytes();
            writePrivate(out.resolve(BackupArchive.MANIFEST), manifestBytes);
            writePrivate(out.resolve(BackupArchive.MANIFEST_SIGNATURE), BackupArchive.sign(signing.getPrivate(), manifestBytes));
            audit.record(List.of(AuditEvent.now(operator, AuditAction.EXPORTED, "/backup/" + manifest.madeAt(),
                    AuditContext.none(), true, null, null, null)));
            progress.report("done: " + (phiFile.bytes() + keyringFile.bytes() >> 20) + " MiB sealed in 2 files");
            return new Made(out, manifest, latestHeads());
        } catch (SQLException e) {
            throw new BackupRefused(BackupRefused.FAILED, "a database snapshot could not be taken (SQLSTATE "
                    + e.getSQLState() + ")");
        } catch (IOException e) {
            throw new BackupRefused(BackupRefused.FAILED, "the backup directory could not be written ("
                    + e.getClass().getSimpleName() + ")");
        }
    }

    /** What the second half of a restore did. */
    public record Restored(Reapplied shredding, AuditVerifier.Report audit) {}

    /**
     * The second half of a restore, in an application started on the loaded databases (not
     * serving): checks that the keyring's signing key is the one the backup was verified with
     * (so this KEK opens that keyring), applies every shredding of {@code ledger} again (null: none,
     * as the operator said), verifies the audit trail and records the restore in it.
     *
     * @param heads ledger heads the operator read from the audit trail's off-host copy (its Kafka
     *     topic, a SIEM): the ledgers must reach each (see {@link #applyLedger})
     * @param noOffHostHead the operator said {@code --no-ledger-head}: recorded in the restored trail,
     *     since a ledger cut after the backup could not be detected (ADR 0049)
     */
    public Restored finishRestore(BackupArchive.Manifest manifest, java.security.PublicKey signedBy,
            List<ShreddingLedger.Ledger> ledger, List<ShreddingLedger.Head> heads, boolean noOffHostHead,
            String operator, Progress progress) {
        if (!Arrays.equals(signingKey().getPublic().getEncoded(), signedBy.getEncoded())) {
            throw new BackupRefused(BackupRefused.REFUSED, "the restored keyring's backup signing key is not the one "
                    + "that signed this backup");
        }
        if (ledger != null && !noOffHostHead) {
            requireAHeadForEachLedger(ledger, heads);
        }
        // null: the operator said --without-shredding-ledger (patients shredded since the backup come back)
        Reapplied shredding = ledger == null ? new Reapplied(0, 0, 0, List.of(), List.of())
                : applyLedger(ledger, heads, operator, progress);
        progress.report("audit: verifying the restored trail");
        AuditVerifier.Report report = verifier.verify();
        // How the ledger was checked is part of the record: an auditor asking why a shredded patient is
        // readable again finds a restore without the ledger, or without an off-host head, here.
        String checked = ledger == null ? "/restored-without-shredding-ledger"
                : noOffHostHead ? "/restored-without-ledger-head" : "/restored";
        audit.record(List.of(AuditEvent.now(operator, AuditAction.ADMIN_CHANGE, "/backup/" + manifest.madeAt()
                + checked, AuditContext.none(), true, null, null, null)));
        return new Restored(shredding, report);
    }

    /**
     * Every ledger the restored trail recorded a head of, and every ledger given, needs a head from
     * off-host (s9 review M-3): the ledgers are checked only against the heads given, so with three
     * nodes' ledgers one head would pass while another node's ledger, cut after the backup, went
     * unnoticed. The restore with {@code --no-ledger-head} skips this (warned, recorded).
     */
    public void requireAHeadForEachLedger(List<ShreddingLedger.Ledger> ledgers, List<ShreddingLedger.Head> heads) {
        java.util.Set<String> needed = new java.util.TreeSet<>();
        recordedHeads().forEach(head -> needed.add(head.ledger()));
        needed.addAll(ledgerIdsWithoutAHead(ledgers, heads));
        heads.forEach(head -> needed.remove(head.ledger()));
        if (!needed.isEmpty()) {
            throw new BackupRefused(BackupRefused.UNUSABLE, needed.size() + " shredding ledger(s) have no --ledger-head "
                    + "(ledger " + String.join(", ", needed) + "): give each ledger's last head as recorded off-host "
                    + "(a ledger cut after the backup shows only against its own head), or --no-ledger-head");
        }
    }

    /**
     * The ids of the ledgers given (their first line's MAC, unauthenticated: only to tell which head
     * is missing; {@link #applyLedger} authenticates them) that no head given names.
     */
    public static List<String> ledgerIdsWithoutAHead(List<ShreddingLedger.Ledger> ledgers,
            List<ShreddingLedger.Head> heads) {
        java.util.Set<String> named = new java.util.HashSet<>();
        heads.forEach(head -> named.add(head.ledger()));
        return ledgers.stream().flatMap(ledger -> ledger.head().stream()).map(ShreddingLedger.Head::ledger)
                .filter(id -> !named.contains(id)).distinct().sorted().toList();
    }

    /**
     * What applying the shredding ledgers did.
     *
     * @param unconfirmed shreddings whose last line is pending (the node stopped before it could
     *     write whether the approval committed), which this installation does not hold: applied
     *     all the same, since a restore must never undo a shredding (ADR 0046); listed for the operator
     * @param heads each ledger's head as given (ledger id, lines, last MAC): to compare with the last
     *     head the audit trail's off-host copy recorded
     */
    public record Reapplied(int applied, int alreadyApplied, int ofAbsentPatients,
            List<ShreddingLedger.Entry> unconfirmed, List<ShreddingLedger.Head> heads) {}

    /**
     * Applies every shredding of {@code ledgers} again where the installation does not already hold
     * it (after a restore or a point-in-time recovery to a time before it): the PHI tombstone, which
     * also drops the patient's blind-index tokens, then the keyring deletion. Idempotent. Applied
     * are the committed shreddings and those whose outcome was never written (a pending last line);
     * only one whose approval is known to have rolled back is not. First each ledger must
     * authenticate (every line's MAC under the key in this installation's keyring, the chain, and
     * this installation's id in every line), and the ledgers must be complete as far as anything
     * here can tell: together they list every shredding this installation's database holds, and
     * they reach every ledger head the restored audit trail recorded (at every append) and every
     * head in {@code expectedHeads}. A ledger cut short, replaced by another chain, or left out is
     * refused rather than silently reviving the patients shredded since (ADR 0040, ADR 0046).
     */
    public Reapplied applyLedger(List<ShreddingLedger.Ledger> ledgers, List<ShreddingLedger.Head> expectedHeads,
            String operator, Progress progress) {
        byte[] key = secrets.getOrCreate(ShreddingLedger.MAC_KEY_NAME, () -> {
            throw new BackupRefused(BackupRefused.REFUSED, "the restored keyring holds no shredding ledger key: the "
                    + "ledgers cannot be authenticated (a backup made before any node kept a ledger needs "
                    + "--without-shredding-ledger)");
        });
        String installation = HexFormat.of().formatHex(secrets.getOrCreate(ShreddingLedger.INSTALLATION_NAME, () -> {
            throw new BackupRefused(BackupRefused.REFUSED, "the restored keyring holds no installation id for the "
                    + "shredding ledger (a backup from before ledger format 2): restore with --without-shredding-ledger");
        }));
        java.util.Map<java.util.UUID, ShreddingLedger.Entry> committed = new java.util.LinkedHashMap<>();
        java.util.Map<java.util.UUID, ShreddingLedger.Entry> unconfirmed = new java.util.LinkedHashMap<>();
        java.util.Set<java.util.UUID> listed = new java.util.HashSet<>();
        List<ShreddingLedger.Head> given = new java.util.ArrayList<>();
        List<ShreddingLedger.Ledger> verified = new java.util.ArrayList<>();
        for (ShreddingLedger.Ledger read : ledgers) {
            ShreddingLedger.Ledger ledger = read.verify(key, installation);
            verified.add(ledger);
            ledger.head().ifPresent(given::add);
            if (ledger.tornTailBytes() > 0) {
                progress.report("shredding ledger " + ledger.name() + ": its last " + ledger.tornTailBytes() + " bytes "
                        + "are a torn line (a write a crash or a full disk cut off, never forced, shorter than a line): "
                        + "ignored");
            }
            if (ledger.skippedBytes() > 0) {
                progress.report("shredding ledger " + ledger.name() + ": " + ledger.skippedBytes() + " bytes of torn "
                        + "writes, each skipped by the authenticated line after it");
            }
            ledger.committed().forEach(entry -> committed.putIfAbsent(entry.request(), entry));
            ledger.unconfirmed().forEach(entry -> unconfirmed.putIfAbsent(entry.request(), entry));
            listed.addAll(ledger.requests());
        }
        unconfirmed.keySet().removeAll(committed.keySet());
        java.util.Set<java.util.UUID> held = new java.util.HashSet<>(shreddings.approvedRequests());
        java.util.List<java.util.UUID> missing = held.stream().filter(id -> !listed.contains(id)).sorted().toList();
        if (!missing.isEmpty()) {
            throw new BackupRefused(BackupRefused.REFUSED, "the shredding ledgers given do not list " + missing.size()
                    + " shredding(s) this installation's database already holds (request " + missing.get(0)
                    + (missing.size() > 1 ? " and others" : "") + "): a ledger is older than the backup, or a node's "
                    + "ledger was left out; patients shredded since would be readable again");
        }
        List<ShreddingLedger.Head> anchors = new java.util.ArrayList<>(recordedHeads());
        anchors.addAll(expectedHeads);
        for (ShreddingLedger.Head anchor : anchors) {
            if (verified.stream().noneMatch(ledger -> ledger.reaches(anchor))) {
                throw new BackupRefused(BackupRefused.REFUSED, "no shredding ledger given reaches the head " + anchor
                        + (expectedHeads.contains(anchor) ? " given with --ledger-head" : " the audit trail recorded")
                        + ": a ledger was cut short, replaced by another, or left out; patients shredded since "
                        + "would be readable again");
            }
        }
        List<ShreddingLedger.Entry> due = new java.util.ArrayList<>(committed.values());
        due.addAll(unconfirmed.values());
        Reapplied done = apply(due, operator);
        List<ShreddingLedger.Entry> unheld = unconfirmed.values().stream().filter(e -> !held.contains(e.request())).toList();
        progress.report("shredding ledger: " + done.applied() + " shreddings applied again, " + done.alreadyApplied()
                + " already in the backup, " + done.ofAbsentPatients() + " of patients the backup does not hold, "
                + unheld.size() + " of them never confirmed (applied all the same)");
        return new Reapplied(done.applied(), done.alreadyApplied(), done.ofAbsentPatients(), unheld, List.copyOf(given));
    }

    /**
     * Each shredding ledger's latest head the audit trail recorded (one per ledger, every node's), to
     * be kept off-host and given to a restore as {@code --ledger-head}: the heads a restored trail holds
     * reach only up to its backup, so only a copy kept elsewhere shows a ledger cut after it (ADR 0049).
     */
    public List<ShreddingLedger.Head> latestHeads() {
        java.util.Map<String, ShreddingLedger.Head> latest = new java.util.LinkedHashMap<>();
        // The longest head of each ledger (a ledger only grows), not the one with the latest wall-clock time:
        // two nodes' clocks, or one stepped back, would otherwise name an older head (s9 review L-5). Equal
        // lengths (a ledger cut and appended to again) keep the first seen: newest first (AuditQueries.page).
        for (ShreddingLedger.Head head : recordedHeads()) {
            latest.merge(head.ledger(), head, (kept, other) -> other.seq() > kept.seq() ? other : kept);
        }
        return List.copyOf(latest.values());
    }

    /**
     * Every ledger head the audit trail recorded (LedgerAppender, at every append), not only the
     * last of each ledger: a ledger cut and appended to again reuses a line number, and its earlier
     * head, with the line's first MAC, is what shows it (s8 review H1).
     */
    private List<ShreddingLedger.Head> recordedHeads() {
        java.util.Set<ShreddingLedger.Head> recorded = new java.util.LinkedHashSet<>();
        AuditQueries.Criteria criteria = new AuditQueries.Criteria(null, ShreddingLedger.HEAD_RECORDER, null, null,
                null, true, 1_000);
        String after = null;
        do {
            AuditQueries.Page page = trail.page(criteria, after);
            for (AuditQueries.StoredEvent event : page.events()) {
                ShreddingLedger.Head.fromResource(event.resource()).ifPresent(recorded::add);
            }
            after = page.next();
        } while (after != null);
        return List.copyOf(recorded);
    }

    private Reapplied apply(List<ShreddingLedger.Entry> ledger, String operator) {
        int applied = 0;
        int already = 0;
        int absent = 0;
        for (ShreddingLedger.Entry entry : ledger) {
            Compartment patient = Compartment.parse(entry.compartment());
            if (!records.exists(patient)) {
                absent++;
                continue;
            }
            boolean tombstoned = records.shredded(patient);
            if (!tombstoned) {
                transactions.executeWithoutResult(status -> {
                    records.tombstone(patient, entry.request(), entry.approvedAt(), entry.requestedBy(),
                            entry.approvedBy());
                    audit.recordInTransaction(List.of(AuditEvent.now(operator, AuditAction.ADMIN_CHANGE,
                            "/admin/keys/shredding/" + entry.request() + "/reapplied-after-restore", AuditContext.none(),
                            true, patient.toString(), null, null)));
                });
            }
            int deleted = shredder.shred(patient.toString(), entry.request());
            // Its request (if this database holds it) says so too: left pending, it could later be
            // refused or expire, and nothing may then take the shredding for one that never happened
            // (s8 review M1).
            shreddings.executedByLedger(entry.request(), entry.approvedAt(), entry.approvedBy());
            if (tombstoned && deleted == 0) {
                already++;
            } else {
                applied++;
            }
        }
        return new Reapplied(applied, already, absent, List.of(), List.of());
    }

    private KeyRotation.JobHold holdKeyJobs() {
        try {
            return keyJobs.holdJobs(KEY_JOB_WAIT);
        } catch (IllegalStateException e) {
            throw new BackupRefused(BackupRefused.FAILED, "key jobs are running and did not stop within "
                    + KEY_JOB_WAIT.toMinutes() + " minutes; back up again when ./carapace keys status shows none running");
        }
    }

    private KeysetHandle configuredRecipient() {
        String file = settings.getProperty("carapace.backup.public-key", "");
        if (file.isBlank()) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "no backup public key: give --public-key FILE or set "
                    + "carapace.backup.public-key (make a pair with ./carapace backup keys)");
        }
        try {
            return BackupArchive.readPublicKey(Files.readString(Path.of(file), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "the backup public key file cannot be read");
        }
    }

    private KeyPair signingKey() {
        return secrets.keyPair(SIGNING_KEY_NAME, "Ed25519", () -> {
            try {
                return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("Cannot generate the backup signing key", e);
            }
        });
    }

    private static void prepare(Path out) {
        try {
            if (Files.exists(out)) {
                try (Stream<Path> listing = Files.list(out)) {
                    if (listing.findAny().isPresent()) {
                        throw new BackupRefused(BackupRefused.UNUSABLE, "--out names a directory that is not empty: "
                                + "give a new directory for each backup");
                    }
                }
                Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rwx------"));
            } else {
                Files.createDirectories(out, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
        } catch (IOException e) {
            throw new BackupRefused(BackupRefused.UNUSABLE, "--out cannot be created or is not a directory");
        }
    }

    /** Opens a read-only transaction on a safe snapshot and exports it for pg_dump. */
    private static Point export(Connection session) throws SQLException {
        session.setAutoCommit(false);
        try (Statement statement = session.createStatement()) {
            // Serializable, read only, deferrable: waits for a snapshot no serializable writer can
            // still contradict, so the dump is a state some serial order of commits produced.
            statement.execute("set transaction isolation level serializable, read only, deferrable");
            try (ResultSet rs = statement.executeQuery("select pg_export_snapshot(), "
                    + "to_char(now() at time zone 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")) {
                rs.next();
                return new Point(rs.getString(1), rs.getString(2));
            }
        }
    }

    private static String schemaVersion(Connection session, String schema) throws SQLException {
        try (Statement statement = session.createStatement();
                ResultSet rs = statement.executeQuery("select version from " + schema + ".flyway_schema_history "
                        + "where success and version is not null order by installed_rank desc limit 1")) {
            return rs.next() ? rs.getString(1) : "none";
        }
    }

    private static BackupArchive.FileEntry write(Path file, String database, DatabaseTarget target, Point point,
            List<String> schemas, KeysetHandle recipient, Progress progress) throws IOException {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        MessageDigest digest = BackupArchive.digest();
        PostgresTools.Dumped dumped;
        try (OutputStream sealed = new DigestOutputStream(
                        new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.WRITE), 1 << 16), digest);
                OutputStream sql = BackupArchive.sealing(sealed, recipient)) {
            dumped = PostgresTools.dump(target, point.snapshot(), schemas, sql, database, progress);
        }
        return new BackupArchive.FileEntry(file.getFileName().toString(), database, Files.size(file),
                HexFormat.of().formatHex(digest.digest()), dumped.sqlBytes(), dumped.tables());
    }

    private static void writePrivate(Path file, byte[] bytes) throws IOException {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(file, bytes, StandardOpenOption.WRITE);
    }
}
