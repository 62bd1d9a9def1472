package health.carapace.incident.internal;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditExporter;
import health.carapace.audit.AuditTrail;
import health.carapace.incident.Evidence;
import health.carapace.incident.EvidenceBundle;
import health.carapace.incident.Incident;
import health.carapace.incident.Incidents;
import health.carapace.platform.logging.RequestIds;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.FileSystemUtils;

/**
 * Makes evidence bundles (ADR 0028): gathers the incident's evidence into a ZIP archive written
 * straight into the bundle's encryption (nothing but the heap dump touches the disk in clear, and
 * that only in a private scratch directory until it is copied in), signs the manifest, and
 * records the chain of custody with its audit event once the bundle is whole.
 */
final class IncidentEvidence implements Evidence {

    /** The audit export and the logs start this long before the incident's first event. */
    static final Duration LEAD_IN = Duration.ofHours(1);
    private static final Pattern PRINCIPAL = Pattern.compile("[A-Za-z0-9:._@-]{1,100}");
    private static final Logger log = LoggerFactory.getLogger(IncidentEvidence.class);

    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;
    private final Incidents incidents;
    private final IncidentStore store;
    private final AuditExporter exporter;
    private final AuditTrail audit;
    private final EvidenceKeys keys;
    private final ConfigurableEnvironment environment;
    private final Clock clock;
    private final Path scratchRoot;
    /** One bundle at a time per node: a heap dump pauses the process and takes as much disk as the heap. */
    private final ReentrantLock making = new ReentrantLock();

    IncidentEvidence(DataSource dataSource, TransactionTemplate transactions, IncidentStore store,
            AuditExporter exporter, AuditTrail audit, EvidenceKeys keys, ConfigurableEnvironment environment, Clock clock,
            Path scratchRoot) {
        this.jdbc = JdbcClient.create(dataSource);
        this.transactions = transactions;
        this.incidents = store;
        this.store = store;
        this.exporter = exporter;
        this.audit = audit;
        this.keys = keys;
        this.environment = environment;
        this.clock = clock;
        this.scratchRoot = scratchRoot;
    }

    @Override
    public Made write(UUID incidentId, boolean heapDump, OutputStream out, String actor) {
        return write(incidentId, heapDump, out, actor, ServerState.THIS_PROCESS);
    }

    @Override
    public Made write(UUID incidentId, boolean heapDump, OutputStream out, String actor, Dumps dumps) {
        if (actor == null || !PRINCIPAL.matcher(actor).matches()) {
            throw new Incidents.Refused(Incidents.Refused.Reason.INVALID, "the actor is a principal name");
        }
        Incident incident = incidents.find(incidentId).orElseThrow(IncidentStore::notFound);
        keys.recipient(); // refuses before anything is written when no key is configured
        if (!making.tryLock()) {
            throw new Incidents.Refused(Incidents.Refused.Reason.CONFLICT,
                    "another evidence bundle is being made on this node; ask again when it is done");
        }
        Path scratch = null;
        try {
            scratch = Files.createTempDirectory(Files.createDirectories(scratchRoot), "evidence-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            return make(incident, heapDump, out, actor, scratch, dumps);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the evidence bundle", e);
        } finally {
            if (scratch != null) {
                try {
                    FileSystemUtils.deleteRecursively(scratch);
                } catch (IOException e) {
                    log.error("The evidence scratch directory could not be removed", e);
                }
            }
            making.unlock();
        }
    }

    private Made make(Incident incident, boolean heapDump, OutputStream out, String actor, Path scratch, Dumps dumps)
            throws IOException {
        UUID bundleId = UUID.randomUUID();
        Instant madeAt = clock.instant();
        Instant from = incident.firstEventAt().minus(LEAD_IN);
        Instant to = madeAt;
        KeyPair signing = keys.signingKey();
        List<EvidenceBundle.FileEntry> files = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        CountingDigest sealed = new CountingDigest(out);
        byte[] manifest;
        byte[] signature;
        try (ZipOutputStream zip = new ZipOutputStream(EvidenceBundle.encrypting(sealed, keys.recipient()))) {
            zip.setLevel(Deflater.BEST_SPEED);
            Archive archive = new Archive(zip, files);
            archive.add("incident.json", AdminJson.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(incident));
            archive.add("custody-before.json", AdminJson.JSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsBytes(custody(incident.id())));
            Path auditDir = scratch.resolve("audit");
            try {
                AuditExporter.Export export = exporter.export(from, to, auditDir);
                try (Stream<Path> exported = Files.list(auditDir)) {
                    for (Path file : exported.sorted().toList()) {
                        archive.add(EvidenceBundle.AUDIT_DIRECTORY + "/" + file.getFileName(), file);
                    }
                }
                notes.add("audit: events " + export.firstLeaf() + " to " + (export.endLeaf() - 1)
                        + ", proved against the signed tree head of size " + export.treeSize());
            } catch (IllegalArgumentException nothingSealed) {
                notes.add("audit: no sealed audit event in the window yet (the sealer runs every second); no export");
            }
            String logFile = environment.getProperty("logging.file.name");
            List<Path> logs = LogWindow.files(logFile);
            if (logs.isEmpty()) {
                notes.add("logs: " + (logFile == null || logFile.isBlank()
                        ? "this server logs to the console only (logging.file.name is not set)"
                        : "logging.file.name names no file (yet)")
                        + ": no log lines in this bundle; collect the window from where the console goes");
            } else {
                long[] lines = new long[1];
                archive.add("logs/server.log", entry -> lines[0] = LogWindow.copy(logs, from, to, entry));
                notes.add("logs: " + lines[0] + " lines of the window from " + logs.size() + " log file(s)");
            }
            archive.add("configuration.properties", ServerState.configuration(environment));
            archive.add("threads.txt", dumps.threads());
            notes.add("threads" + (heapDump ? " and heap" : "") + ": of " + dumps.describe());
            if (heapDump) {
                Path hprof = scratch.toAbsolutePath().resolve("heap.hprof");
                dumps.heap(hprof);
                archive.add("heap.hprof", hprof);
                Files.delete(hprof); // the clear copy is gone as soon as it is inside the encryption
            }
            manifest = new EvidenceBundle.Manifest(EvidenceBundle.FORMAT, 1, bundleId.toString(),
                    incident.id().toString(), madeAt.toString(), actor, from.toString(), to.toString(),
                    keys.recipientKeyId(), EvidenceBundle.sha256Hex(signing.getPublic().getEncoded()), files, notes)
                    .toBytes();
            signature = EvidenceBundle.signManifest(signing.getPrivate(), manifest);
            archive.raw(EvidenceBundle.MANIFEST, manifest);
            archive.raw(EvidenceBundle.MANIFEST_SIGNATURE, signature);
            archive.raw(EvidenceBundle.SIGNING_KEY, EvidenceBundle.pem(signing.getPublic()).getBytes(
                    java.nio.charset.StandardCharsets.US_ASCII));
        }
        Custody custody = new Custody(bundleId, incident.id(), madeAt, actor, sealed.sha256(), sealed.count(),
                EvidenceBundle.sha256Hex(manifest), heapDump, keys.recipientKeyId(),
                EvidenceBundle.sha256Hex(signing.getPublic().getEncoded()));
        record(custody);
        return new Made(custody, manifest, signature, EvidenceBundle.pem(signing.getPublic()));
    }

    /** The custody record, its timeline entry and its audit event: one transaction. */
    private void record(Custody c) {
        transactions.executeWithoutResult(status -> {
            jdbc.sql("""
                    insert into incident.evidence_custody (id, incident_id, made_at, made_by, bundle_sha256,
                        bundle_bytes, manifest_sha256, heap_dump, recipient_key_id, signing_key_id)
                    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")
                    .params(c.id(), c.incident(), Timestamp.from(c.madeAt()), c.madeBy(), c.bundleSha256(),
                            c.bundleBytes(), c.manifestSha256(), c.heapDump(), c.recipientKeyId(), c.signingKeyId())
                    .update();
            store.timeline(c.incident(), c.madeAt(), c.madeBy(), "evidence-preserved", c.heapDump() ? "heap" : "no-heap");
            // Making a bundle discloses what it holds (a heap dump: PHI) to whoever holds the evidence key.
            audit.recordInTransaction(List.of(AuditEvent.now(c.madeBy(), AuditAction.EXPORTED,
                    "/admin/incidents/" + c.incident() + "/evidence/" + c.id(), AuditContext.none(), true, null, null,
                    RequestIds.current())));
        });
    }

    @Override
    public List<Custody> custody(UUID incident) {
        return jdbc.sql("""
                select id, incident_id, made_at, made_by, bundle_sha256, bundle_bytes, manifest_sha256, heap_dump,
                    recipient_key_id, signing_key_id
                from incident.evidence_custody where incident_id = ? order by made_at, id""")
                .param(incident)
                .query((rs, n) -> new Custody(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class),
                        rs.getTimestamp(3).toInstant(), rs.getString(4), rs.getString(5), rs.getLong(6),
                        rs.getString(7), rs.getBoolean(8), rs.getString(9), rs.getString(10)))
                .list();
    }

    /** Writes one file after another into the archive, hashing each as it goes. */
    private static final class Archive {
        private final ZipOutputStream zip;
        private final List<EvidenceBundle.FileEntry> files;

        Archive(ZipOutputStream zip, List<EvidenceBundle.FileEntry> files) {
            this.zip = zip;
            this.files = files;
        }

        interface Content {
            void writeTo(OutputStream entry) throws IOException;
        }

        void add(String name, byte[] content) throws IOException {
            add(name, entry -> entry.write(content));
        }

        void add(String name, Path file) throws IOException {
            add(name, entry -> {
                try (InputStream in = Files.newInputStream(file)) {
                    in.transferTo(entry);
                }
            });
        }

        void add(String name, Content content) throws IOException {
            zip.putNextEntry(new ZipEntry(name));
            CountingDigest entry = new CountingDigest(zip);
            content.writeTo(entry);
            zip.closeEntry();
            files.add(new EvidenceBundle.FileEntry(name, entry.sha256(), entry.count()));
        }

        /** A file outside the manifest: the manifest itself, its signature, the signing key. */
        void raw(String name, byte[] content) throws IOException {
            zip.putNextEntry(new ZipEntry(name));
            zip.write(content);
            zip.closeEntry();
        }
    }

    /** Counts and hashes what passes through; never closes what it wraps (the caller's stream). */
    private static final class CountingDigest extends FilterOutputStream {
        private final MessageDigest digest;
        private long count;

        CountingDigest(OutputStream out) {
            super(out);
            try {
                this.digest = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            digest.update((byte) b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            digest.update(b, off, len);
            count += len;
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }

        String sha256() {
            return HexFormat.of().formatHex(digest.digest());
        }

        long count() {
            return count;
        }
    }
}
