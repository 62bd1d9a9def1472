package health.carapace.incident.internal;

import health.carapace.audit.AuditFeed.SealedEvent;
import health.carapace.incident.Severity;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * {@code volume}: the distinct patients a principal touched in one clock hour, far above its own
 * baseline. For people: more than {@code max(floor, mean + k·σ)}, where mean and σ are over the
 * principal's active hours of the last {@code baseline-days} days (the floor alone while it has
 * fewer than {@code min-baseline-hours} of them, so a new user's first shift is not flagged). For
 * service clients, whose load is the application's and not a person's: above an absolute ceiling.
 * The distinct patients per hour are stored, so a restart or another node taking over keeps the hour's
 * count and the baseline: who was seen in the current hour ({@code incident.hour_patient}, pruned to
 * the last two hours) and how many per hour ({@code incident.hour_count}, counted as patients are
 * first seen, so that a batch costs what it holds and not what the hour holds).
 */
final class VolumeDetector implements Detector {

    static final String CODE = "volume";

    private record HourKey(String principal, Instant hour) {}

    private final JdbcClient jdbc;
    private final IncidentSettings settings;
    private final Map<HourKey, Set<String>> batchPatients = new HashMap<>();
    private final Map<HourKey, SealedEvent> lastEvent = new HashMap<>();
    /**
     * Principal-hours already over their threshold, with the count that crossed it. They are not
     * counted further (see {@link #endOfBatch}); forgotten with the hour's rows.
     */
    private final Map<HourKey, Long> flagged = new HashMap<>();
    /** Rows of incident.hour_patient before this hour are gone (pruned by this node, or never needed). */
    private Instant prunedBefore = Instant.MIN;

    VolumeDetector(DataSource dataSource, IncidentSettings settings) {
        this.jdbc = JdbcClient.create(dataSource);
        this.settings = settings;
    }

    @Override
    public String code() {
        return CODE;
    }

    @Override
    public void inspect(SealedEvent sealed, List<Detection> found) {
        var e = sealed.event();
        if (!AuditedAccess.patientAccess(e)) {
            return;
        }
        HourKey key = new HourKey(e.user(), e.timestamp().truncatedTo(ChronoUnit.HOURS));
        batchPatients.computeIfAbsent(key, k -> new HashSet<>()).add(e.patient());
        lastEvent.put(key, sealed);
    }

    @Override
    public void endOfBatch(List<Detection> found) {
        if (batchPatients.isEmpty()) {
            return;
        }
        // An hour already over its threshold is not counted further: the detection stands for the rest of
        // the hour either way, and counting a principal that reads like a bulk harvest was the dearest part
        // of detection (a row per patient: 65-157 ms of PostgreSQL a batch while the bench read 1,000,000
        // patients, issue 13). Its stored count then means "at least" (docs/INCIDENTS.md).
        List<String> principals = new ArrayList<>();
        List<Timestamp> hours = new ArrayList<>();
        List<String> patients = new ArrayList<>();
        List<String> keyPrincipals = new ArrayList<>();
        List<Timestamp> keyHours = new ArrayList<>();
        batchPatients.forEach((key, set) -> {
            if (flagged.containsKey(key)) {
                return;
            }
            keyPrincipals.add(key.principal());
            keyHours.add(Timestamp.from(key.hour()));
            set.forEach(patient -> {
                principals.add(key.principal());
                hours.add(Timestamp.from(key.hour()));
                patients.add(patient);
            });
        });
        Map<HourKey, Long> counts = new HashMap<>(flagged);
        if (!patients.isEmpty()) {
            // A patient new in its hour adds one to the hour's count: the count costs what the batch
            // holds, not what the hour holds (V41).
            jdbc.sql("""
                    with added as (
                        insert into incident.hour_patient (principal, hour_start, patient)
                        select * from unnest(?::text[], ?::timestamptz[], ?::text[]) on conflict do nothing
                        returning principal, hour_start)
                    insert into incident.hour_count as c (principal, hour_start, patients)
                    select principal, hour_start, count(*) from added group by principal, hour_start
                    on conflict (principal, hour_start) do update set patients = c.patients + excluded.patients""")
                    .params(principals.toArray(String[]::new), hours.toArray(Timestamp[]::new),
                            patients.toArray(String[]::new))
                    .update();
            // the hour's distinct patients of every principal of the batch, in one query
            jdbc.sql("""
                    select c.principal, c.hour_start, c.patients from incident.hour_count c
                    join unnest(?::text[], ?::timestamptz[]) as k (principal, hour_start)
                        on c.principal = k.principal and c.hour_start = k.hour_start""")
                    .params(keyPrincipals.toArray(String[]::new), keyHours.toArray(Timestamp[]::new))
                    .query(rs -> {
                        counts.put(new HourKey(rs.getString(1), rs.getTimestamp(2).toInstant()), rs.getLong(3));
                    });
        }
        for (HourKey key : batchPatients.keySet()) {
            long count = counts.getOrDefault(key, 0L);
            if (flagged.containsKey(key)) {
                found.add(Detection.of(CODE, Severity.HIGH, lastEvent.get(key), "patients-per-hour:" + count));
                continue;
            }
            // a person's threshold is never below the floor: the baseline is read only above it
            boolean person = !key.principal().startsWith("svc-");
            if (person && count <= settings.volumeFloor()) {
                continue;
            }
            if (count > threshold(key)) {
                found.add(Detection.of(CODE, Severity.HIGH, lastEvent.get(key), "patients-per-hour:" + count));
                flagged.put(key, count);
            }
        }
        prune();
        batchPatients.clear();
        lastEvent.clear();
    }

    /**
     * Once an hour (as the trail's hours move, not the clock's, so a reader catching up after an outage
     * still knows who was seen in the hours it reads): a patient's row is needed while events of its hour
     * may still come, so rows of the hour before the batch's oldest are kept; counts are kept for the
     * baseline and a day more.
     */
    private void prune() {
        Instant oldest = batchPatients.keySet().stream().map(HourKey::hour).min(Instant::compareTo).orElseThrow();
        Instant keepFrom = oldest.minus(Duration.ofHours(1));
        if (!keepFrom.isAfter(prunedBefore)) {
            return;
        }
        jdbc.sql("delete from incident.hour_patient where hour_start < ?").param(Timestamp.from(keepFrom)).update();
        flagged.keySet().removeIf(key -> key.hour().isBefore(keepFrom));
        jdbc.sql("delete from incident.hour_count where hour_start < ?")
                .param(Timestamp.from(keepFrom.minus(Duration.ofDays(settings.volumeBaselineDays() + 1L)))).update();
        prunedBefore = keepFrom;
    }

    /** The most distinct patients per hour this principal may touch without a look. */
    double threshold(HourKey key) {
        if (key.principal().startsWith("svc-")) {
            return settings.volumeClientCeiling();
        }
        Instant from = key.hour().minus(Duration.ofDays(settings.volumeBaselineDays()));
        List<Long> perHour = jdbc.sql("""
                select patients from incident.hour_count
                where principal = ? and hour_start >= ? and hour_start < ?""")
                .params(key.principal(), Timestamp.from(from), Timestamp.from(key.hour()))
                .query(Long.class).list();
        if (perHour.size() < settings.volumeMinBaselineHours()) {
            return settings.volumeFloor();
        }
        double mean = perHour.stream().mapToLong(Long::longValue).average().orElse(0);
        double variance = perHour.stream().mapToDouble(n -> (n - mean) * (n - mean)).sum() / perHour.size();
        return Math.max(settings.volumeFloor(), mean + settings.volumeK() * Math.sqrt(variance));
    }
}
