package health.carapace.crypto.internal;

import health.carapace.crypto.KeyRotation;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.ToDoubleFunction;

/**
 * Key status as Micrometer gauges, for whatever registry binds it (Boot binds every
 * {@link MeterBinder} bean once a registry is configured; Carapace adds no metrics route of its
 * own, so nothing here is reachable without the operator choosing an exporter).
 *
 * <ul>
 *   <li>{@code carapace.keys.encryptions}, {@code carapace.keys.age} (seconds),
 *       {@code carapace.keys.warning} (1 at or past the encryption warning), tagged
 *       {@code kind} ({@code kek}, {@code index-root}, {@code dek}), {@code version}, {@code state}.
 *       Data keys appear as one row ({@code version=all}): the most encryptions under any one
 *       data key and the age of the oldest, never a patient id;</li>
 *   <li>{@code carapace.keys.job.done}: rows done by each running job, tagged {@code kind}, {@code phase}.</li>
 * </ul>
 * Values come from a snapshot refreshed by the scheduler, not from a query per scrape.
 */
final class KeyMetrics implements MeterBinder {

    private record Gauges(MultiGauge encryptions, MultiGauge age, MultiGauge warning, MultiGauge jobDone) {}

    private final KeyJobs jobs;
    private final List<Gauges> bound = new CopyOnWriteArrayList<>();

    KeyMetrics(KeyJobs jobs) {
        this.jobs = jobs;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        bound.add(new Gauges(
                MultiGauge.builder("carapace.keys.encryptions").description("Encryptions performed under a key")
                        .register(registry),
                MultiGauge.builder("carapace.keys.age").description("Age of a key").baseUnit("seconds")
                        .register(registry),
                MultiGauge.builder("carapace.keys.warning")
                        .description("1 when a key reached the encryption warning threshold").register(registry),
                MultiGauge.builder("carapace.keys.job.done").description("Rows done by a running key job")
                        .register(registry)));
        refresh();
    }

    /** Re-reads the key status into every bound registry. */
    void refresh() {
        if (bound.isEmpty()) {
            return;
        }
        KeyRotation.Status status = jobs.status();
        Instant now = Instant.now();
        List<KeyRotation.Key> keys = status.keys().stream().filter(k -> !k.kind().equals("dek")).toList();
        List<KeyRotation.Job> running = status.jobs().stream().filter(j -> j.state().equals("running")).toList();
        for (Gauges gauges : bound) {
            gauges.encryptions().register(rows(keys.stream().filter(k -> k.encryptions() >= 0).toList(),
                    k -> k.encryptions()), true);
            gauges.age().register(rows(keys.stream().filter(k -> k.createdAt() != null).toList(),
                    k -> Duration.between(k.createdAt(), now).toSeconds()), true);
            gauges.warning().register(rows(keys, k -> k.warning() ? 1 : 0), true);
            List<MultiGauge.Row<?>> jobRows = new ArrayList<>();
            for (KeyRotation.Job job : running) {
                jobRows.add(MultiGauge.Row.of(Tags.of("kind", job.kind(), "phase", job.phase()), job.done()));
            }
            gauges.jobDone().register(jobRows, true);
        }
    }

    private static List<MultiGauge.Row<?>> rows(List<KeyRotation.Key> keys, ToDoubleFunction<KeyRotation.Key> value) {
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        for (KeyRotation.Key key : keys) {
            String kind = key.kind().equals("dek-summary") ? "dek" : key.kind();
            String version = key.kind().equals("dek-summary") ? "all" : Integer.toString(key.version());
            rows.add(MultiGauge.Row.of(Tags.of("kind", kind, "version", version, "state", key.state()),
                    value.applyAsDouble(key)));
        }
        return rows;
    }
}
