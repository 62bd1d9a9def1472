package health.carapace.crypto.internal;

import health.carapace.crypto.KeyRotation;
import health.carapace.platform.metrics.RefreshedOnScrape;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Key status as Micrometer gauges, served by {@code GET /admin/metrics} (platform.metrics;
 * ADR 0010, "Metrics exposure"). In the Prometheus names:
 *
 * <ul>
 *   <li>{@code carapace_keys_state} (1), {@code carapace_keys_age_seconds}, tagged {@code kind}
 *       ({@code kek}, {@code index-root}, {@code dek}), {@code version}, {@code state}
 *       ({@code active}, {@code decrypt-only}, {@code retired}): one row per KEK and index root
 *       key version;</li>
 *   <li>{@code carapace_keys_encryptions}, {@code carapace_keys_warning} (1 at or past the
 *       warning), same tags, for the KEK versions and one row for all data keys;</li>
 *   <li>{@code carapace_keys_encryption_warning_threshold}: encryptions per key at which a key is
 *       flagged (well before AES-GCM's 2^32 bound);</li>
 *   <li>{@code carapace_keys_dek_keysets}, {@code carapace_keys_dek_keys},
 *       {@code carapace_keys_dek_keys_over_warning}: data keys in aggregate;</li>
 *   <li>{@code carapace_keys_job_running} by {@code kind}; {@code carapace_keys_job_done} (rows
 *       done by the running jobs) by {@code kind} and {@code phase}; {@code carapace_keys_job_last_done}
 *       (rows done by the most recent job that is no longer running) by {@code kind} and
 *       {@code state}. Jobs do not record a total in advance, so none is shown.</li>
 * </ul>
 *
 * <p>Data keys are per patient and their key references name the patient, so they appear only in
 * aggregate: no tag ever carries a key reference, a job's scope or any other identifier, only
 * the fixed vocabularies above and key version numbers. Values are a snapshot, refreshed by the
 * scheduler at the refresh interval and before each scrape (at most once a second).
 */
final class KeyMetrics implements MeterBinder, RefreshedOnScrape {

    private static final Logger log = LoggerFactory.getLogger(KeyMetrics.class);
    private static final Duration MIN_SCRAPE_REFRESH = Duration.ofSeconds(1);
    /**
     * How old the counts of data keysets and keys may be: counting them scans one row per patient
     * (issue 13 item 6), so they are recounted every five minutes, not at every refresh. Key status
     * ({@code keys status}, the console) counts afresh and renews them.
     */
    static final Duration COUNT_MAX_AGE = Duration.ofMinutes(5);

    private record Gauges(MultiGauge state, MultiGauge encryptions, MultiGauge age, MultiGauge warning,
            MultiGauge jobRunning, MultiGauge jobDone, MultiGauge jobLastDone) {}

    private final KeyJobs jobs;
    private final KeyringStore store;
    private final List<Gauges> bound = new CopyOnWriteArrayList<>();
    private final AtomicLong threshold = new AtomicLong();
    private final AtomicLong dekKeysets = new AtomicLong();
    private final AtomicLong dekKeys = new AtomicLong();
    private final AtomicLong dekOverWarning = new AtomicLong();
    private Instant refreshedAt = Instant.EPOCH;

    KeyMetrics(KeyJobs jobs, KeyringStore store) {
        this.jobs = jobs;
        this.store = store;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        bound.add(new Gauges(
                MultiGauge.builder("carapace.keys.state").description("1 for every key version, tagged with its state")
                        .register(registry),
                MultiGauge.builder("carapace.keys.encryptions").description("Encryptions performed under a key")
                        .register(registry),
                MultiGauge.builder("carapace.keys.age").description("Age of a key").baseUnit("seconds")
                        .register(registry),
                MultiGauge.builder("carapace.keys.warning")
                        .description("1 when a key reached the encryption warning threshold").register(registry),
                MultiGauge.builder("carapace.keys.job.running").description("Key jobs running")
                        .register(registry),
                MultiGauge.builder("carapace.keys.job.done").description("Rows done by the running key jobs")
                        .register(registry),
                MultiGauge.builder("carapace.keys.job.last.done")
                        .description("Rows done by the most recent key job that is no longer running")
                        .register(registry)));
        Gauge.builder("carapace.keys.encryption.warning.threshold", threshold, AtomicLong::get)
                .description("Encryptions under one key at which it is flagged").register(registry);
        Gauge.builder("carapace.keys.dek.keysets", dekKeysets, AtomicLong::get)
                .description("Data keysets (one per patient compartment, and the shared one)").register(registry);
        Gauge.builder("carapace.keys.dek.keys", dekKeys, AtomicLong::get)
                .description("Live data keys in all keysets").register(registry);
        Gauge.builder("carapace.keys.dek.keys.over.warning", dekOverWarning, AtomicLong::get)
                .description("Live data keys at or past the encryption warning threshold").register(registry);
        try {
            refresh();
        } catch (RuntimeException e) {
            // Metrics must not stop the server: the gauges fill at the next refresh.
            log.warn("Key metrics could not be read yet; they are read again at the next refresh", e);
        }
    }

    @Override
    public void refreshBeforeScrape() {
        synchronized (this) {
            if (Instant.now().isBefore(refreshedAt.plus(MIN_SCRAPE_REFRESH))) {
                return;
            }
        }
        refresh();
    }

    /** Re-reads the key status into every bound registry. */
    synchronized void refresh() {
        if (bound.isEmpty()) {
            return;
        }
        KeyRotation.Status status = jobs.statusWithRecentCounts(COUNT_MAX_AGE);
        KeyringStore.DekCounts counts = jobs.lastCounts();
        long overWarning = store.dekKeysAtOrOver(status.encryptionWarning());
        Instant now = Instant.now();
        // "dek" rows name a patient's keyset: they never become meters, only the summary row does.
        List<KeyRotation.Key> keys = status.keys().stream().filter(k -> !k.kind().equals("dek")).toList();
        List<KeyRotation.Key> versions = keys.stream().filter(k -> !k.kind().equals("dek-summary")).toList();
        List<KeyRotation.Key> counted = keys.stream().filter(k -> k.encryptions() >= 0).toList();

        Map<String, Long> running = new LinkedHashMap<>();
        Map<Tags, Long> done = new LinkedHashMap<>();
        Map<String, KeyRotation.Job> last = new LinkedHashMap<>();
        for (KeyRotation.Job job : status.jobs()) {
            if (job.state().equals("running")) {
                running.merge(job.kind(), 1L, Long::sum);
                done.merge(Tags.of("kind", job.kind(), "phase", job.phase()), job.done(), Long::sum);
            } else {
                // status lists jobs newest first within each state
                last.putIfAbsent(job.kind(), job);
            }
        }
        for (Gauges gauges : bound) {
            gauges.state().register(rows(versions, k -> 1), true);
            gauges.encryptions().register(rows(counted, KeyRotation.Key::encryptions), true);
            gauges.age().register(rows(keys.stream().filter(k -> k.createdAt() != null).toList(),
                    k -> Duration.between(k.createdAt(), now).toSeconds()), true);
            gauges.warning().register(rows(counted, k -> k.warning() ? 1 : 0), true);
            List<MultiGauge.Row<?>> runningRows = new ArrayList<>();
            running.forEach((kind, n) -> runningRows.add(MultiGauge.Row.of(Tags.of("kind", kind), n)));
            gauges.jobRunning().register(runningRows, true);
            List<MultiGauge.Row<?>> doneRows = new ArrayList<>();
            done.forEach((tags, n) -> doneRows.add(MultiGauge.Row.of(tags, n)));
            gauges.jobDone().register(doneRows, true);
            List<MultiGauge.Row<?>> lastRows = new ArrayList<>();
            last.forEach((kind, job) -> lastRows.add(MultiGauge.Row.of(Tags.of("kind", kind, "state", job.state()),
                    job.done())));
            gauges.jobLastDone().register(lastRows, true);
        }
        threshold.set(status.encryptionWarning());
        dekKeysets.set(counts.keysets());
        dekKeys.set(counts.keys());
        dekOverWarning.set(overWarning);
        refreshedAt = now;
    }

    private static List<MultiGauge.Row<?>> rows(List<KeyRotation.Key> keys, ToDoubleFunction<KeyRotation.Key> value) {
        // Several state keysets (ADR 0042) have rows with the same tags: one row each, the highest value.
        Map<Tags, Double> values = new LinkedHashMap<>();
        for (KeyRotation.Key key : keys) {
            String kind = key.kind().equals("dek-summary") ? "dek" : key.kind();
            String version = key.kind().equals("dek-summary") ? "all" : Integer.toString(key.version());
            values.merge(Tags.of("kind", kind, "version", version, "state", key.state()), value.applyAsDouble(key),
                    Math::max);
        }
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        values.forEach((tags, v) -> rows.add(MultiGauge.Row.of(tags, v)));
        return rows;
    }
}
