package health.carapace.export.internal;

import com.google.crypto.tink.StreamingAead;
import health.carapace.access.Caller;
import health.carapace.records.Compartment;
import health.carapace.records.RecordExport;
import health.carapace.signin.ServiceClients;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs exports in the background, one at a time per node, on a single low-priority thread so that
 * interactive requests keep the connection pool and the CPU. A job is worked in parts of
 * {@link #PATIENTS_PER_PART} patients: each part's NDJSON files (one per type) are written
 * encrypted, then committed with the cursor after its last patient in one transaction. After a
 * restart, a running job whose heartbeat stopped is claimed again and continues after its cursor;
 * the files of a part that was never committed are deleted first. Expired, cancelled and failed
 * jobs have their files deleted.
 */
final class ExportWorker {

    private static final Logger log = LoggerFactory.getLogger(ExportWorker.class);
    static final int PATIENTS_PER_PART = 500;
    private static final Duration STALE = Duration.ofSeconds(30);
    /** How often a running part says it is alive: well inside {@link #STALE}, not a commit per patient. */
    private static final Duration BEAT_EVERY = Duration.ofSeconds(5);

    private final ExportJobs jobs;
    private final ExportKeys keys;
    private final RecordExport records;
    private final ServiceClients clients;
    private final ExportFiles files;
    private final Clock clock;
    private final Duration expiry;
    private final GroupMembership groups;
    private final int patientsPerPart;
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "bulk-export");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        return thread;
    });

    ExportWorker(ExportJobs jobs, ExportKeys keys, RecordExport records, ServiceClients clients, ExportFiles files,
            Clock clock, Duration expiry, GroupMembership groups) {
        this(jobs, keys, records, clients, files, clock, expiry, groups, PATIENTS_PER_PART);
    }

    /** A worker with parts of another size (a test that watches what happens between two parts). */
    ExportWorker(ExportJobs jobs, ExportKeys keys, RecordExport records, ServiceClients clients, ExportFiles files,
            Clock clock, Duration expiry, GroupMembership groups, int patientsPerPart) {
        this.groups = groups;
        this.patientsPerPart = patientsPerPart;
        this.jobs = jobs;
        this.keys = keys;
        this.records = records;
        this.clients = clients;
        this.files = files;
        this.clock = clock;
        this.expiry = expiry;
    }

    void start(Duration pollEvery) {
        executor.scheduleWithFixedDelay(this::runOnce, pollEvery.toMillis(), pollEvery.toMillis(), TimeUnit.MILLISECONDS);
    }

    void stop() {
        executor.shutdownNow();
    }

    /** One round: clean what must go, then work one job to its end. */
    void runOnce() {
        try {
            clean();
            Instant now = clock.instant();
            Optional<ExportJobs.Job> job = jobs.claim(now, now.minus(STALE));
            job.ifPresent(this::work);
        } catch (RuntimeException e) {
            log.error("A bulk export round failed", e);
        }
    }

    void clean() {
        for (UUID id : jobs.toClean(clock.instant())) {
            files.deleteAll(id);
            jobs.forgetFiles(id, clock.instant());
        }
    }

    /** Works one claimed job to its end (or until its client may no longer have it). */
    void work(ExportJobs.Job job) {
        try {
            Optional<Caller> caller = clients.callerNow(job.clientId(), job.appScope());
            if (caller.isEmpty()) {
                jobs.fail(job.id());
                return;
            }
            StreamingAead aead = keys.open(job.id(), job.wrappedKey());
            List<health.carapace.records.RecordExport.TypeFilter> filters = TypeFilters.open(aead, job.id(),
                    job.sealedTypeFilters());
            InetAddress address = com.google.common.net.InetAddresses.forString(job.clientAddress());
            files.deleteUncommitted(job.id(), job.part());
            Compartment cursor = job.cursorPatient() == null ? null : Compartment.parse(job.cursorPatient());
            int part = job.part();
            // a Group's members as the client may read the Group now (after a restart too)
            Optional<List<Compartment>> members = job.groupId() == null ? Optional.empty()
                    : groups.members(caller.get(), address, clock.instant(), job.groupId());
            if (job.groupId() != null && members.isEmpty()) {
                jobs.fail(job.id());
                return;
            }
            while (true) {
                List<Compartment> patients = members.isPresent()
                        ? GroupMembership.after(members.get(), cursor, patientsPerPart)
                        : records.patients(cursor, patientsPerPart);
                if (patients.isEmpty()) {
                    break;
                }
                part++;
                // Decided again at each part (review F9): a client disabled or stripped of its roles after
                // the kick-off stops here; each record below is then decided on its roles as they are now.
                caller = clients.callerNow(job.clientId(), job.appScope());
                if (caller.isEmpty()) {
                    files.deleteUncommitted(job.id(), part - 1);
                    jobs.fail(job.id());
                    return;
                }
                List<ExportJobs.OutputFile> written = writePart(job, caller.get(), address, aead, part, patients, filters);
                cursor = patients.get(patients.size() - 1);
                if (!jobs.commitPart(job.id(), part, cursor.toString(), patients.size(), written, clock.instant())) {
                    files.deleteAll(job.id()); // cancelled meanwhile: its key is already gone
                    return;
                }
            }
            jobs.complete(job.id(), clock.instant(), clock.instant().plus(expiry));
        } catch (Exception e) {
            log.error("A bulk export failed", e);
            jobs.fail(job.id());
        }
    }

    /** One part: every patient's decided records, into one encrypted NDJSON file per type. */
    private List<ExportJobs.OutputFile> writePart(ExportJobs.Job job, Caller caller, InetAddress address,
            StreamingAead aead, int part, List<Compartment> patients,
            List<health.carapace.records.RecordExport.TypeFilter> filters) throws Exception {
        Map<String, OutputStream> streams = new LinkedHashMap<>();
        Map<String, Integer> counts = new LinkedHashMap<>();
        Instant since = job.since();
        Instant[] lastBeat = {clock.instant()};
        try {
            // asked before each patient: a Group member the client may no longer export is skipped, and
            // the job says it is alive every few seconds (not a commit per patient)
            java.util.function.Predicate<Compartment> proceed = patient -> {
                Instant now = clock.instant();
                if (!now.isBefore(lastBeat[0].plus(BEAT_EVERY))) {
                    jobs.beat(job.id(), now);
                    lastBeat[0] = now;
                }
                return job.groupId() == null || groups.mayExport(caller, address, now, patient, job.types(),
                        job.groupId(), job.id().toString());
            };
            records.exportPart(caller, address, clock.instant(), patients, new java.util.HashSet<>(job.types()), since,
                    filters, job.id().toString(), proceed, exported -> {
                        try {
                            OutputStream out = streams.get(exported.type());
                            if (out == null) {
                                String name = ExportFiles.name(part, exported.type());
                                out = aead.newEncryptingStream(files.create(job.id(), name),
                                        ExportKeys.fileAssociatedData(job.id(), name));
                                streams.put(exported.type(), out);
                            }
                            out.write(exported.json());
                            out.write('\n');
                            counts.merge(exported.type(), 1, Integer::sum);
                        } catch (Exception e) {
                            throw new IllegalStateException("an export file could not be written", e);
                        }
                    });
        } finally {
            for (OutputStream out : streams.values()) {
                out.close();
            }
        }
        List<ExportJobs.OutputFile> written = new ArrayList<>();
        counts.forEach((type, count) -> written.add(new ExportJobs.OutputFile(ExportFiles.name(part, type), type, part, count)));
        return written;
    }
}
