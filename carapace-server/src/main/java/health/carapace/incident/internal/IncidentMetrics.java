package health.carapace.incident.internal;

import health.carapace.audit.AuditFeed;
import health.carapace.incident.Severity;
import health.carapace.platform.metrics.RefreshedOnScrape;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Incident metrics at {@code /admin/metrics}: incidents not yet closed by severity
 * ({@code carapace_incident_open{severity}}), response clocks run out and not met
 * ({@code carapace_incident_clocks_overdue{clock}}), the detectors' lag behind the sealed trail in
 * leaves ({@code carapace_incident_detector_lag_leaves}), incidents opened per detector
 * ({@code carapace_incident_detections_total{detector}}) and the time from detection to containment
 * ({@code carapace_incident_time_to_contain_seconds}), overdue clocks raised as alerts
 * ({@code carapace_incident_overdue_alerts_total{clock}}) and the alert outbox
 * ({@code carapace_incident_alerts_pending}, {@code carapace_incident_alerts_dead}). Drill incidents are left out of all but the
 * last (they measure it). Tags are fixed codes, never a principal or a patient.
 */
final class IncidentMetrics implements MeterBinder, RefreshedOnScrape {

    static final List<String> CLOCKS = List.of("isolate", "alert", "plan", "individuals", "hhs", "media");

    private record Values(Map<Severity, Long> open, Map<String, Long> overdue, long lag, long alertsPending,
            long alertsDead) {}

    private final JdbcClient jdbc;
    private final AuditFeed feed;
    private final Clock clock;
    private final AtomicReference<Values> values;
    private final Map<String, Counter> detections = new ConcurrentHashMap<>();
    private final Map<String, Counter> overdueAlerts = new ConcurrentHashMap<>();
    private volatile MeterRegistry registry;
    private volatile DistributionSummary timeToContain;

    IncidentMetrics(DataSource dataSource, AuditFeed feed, Clock clock) {
        this.jdbc = JdbcClient.create(dataSource);
        this.feed = feed;
        this.clock = clock;
        Map<Severity, Long> open = new EnumMap<>(Severity.class);
        for (Severity s : Severity.values()) {
            open.put(s, 0L);
        }
        Map<String, Long> overdue = new ConcurrentHashMap<>();
        CLOCKS.forEach(c -> overdue.put(c, 0L));
        this.values = new AtomicReference<>(new Values(open, overdue, 0, 0, 0));
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        this.registry = registry;
        for (Severity severity : Severity.values()) {
            Gauge.builder("carapace.incident.open", values, v -> v.get().open().getOrDefault(severity, 0L))
                    .tag("severity", severity.code())
                    .description("Incidents not yet resolved or closed (drills left out)").register(registry);
        }
        for (String clockName : CLOCKS) {
            Gauge.builder("carapace.incident.clocks.overdue", values, v -> v.get().overdue().getOrDefault(clockName, 0L))
                    .tag("clock", clockName)
                    .description("Incidents whose response clock ran out unmet (drills left out)").register(registry);
        }
        for (String clockName : CLOCKS) {
            overdueAlerts.put(clockName, Counter.builder("carapace.incident.overdue.alerts").tag("clock", clockName)
                    .description("Overdue clocks raised as alerts (once per incident and clock)").register(registry));
        }
        Gauge.builder("carapace.incident.alerts.pending", values, v -> v.get().alertsPending())
                .description("Incident alerts in the outbox not delivered yet (retrying)").register(registry);
        Gauge.builder("carapace.incident.alerts.dead", values, v -> v.get().alertsDead())
                .description("Incident alerts given up on, of incidents not closed").register(registry);
        Gauge.builder("carapace.incident.detector.lag.leaves", values, v -> v.get().lag())
                .description("Sealed audit leaves the incident detectors have not read yet").register(registry);
        timeToContain = DistributionSummary.builder("carapace.incident.time.to.contain.seconds")
                .description("Time from detection to the first containment action")
                .baseUnit("seconds")
                .serviceLevelObjectives(60, 300, 900, 3600, 14400)
                .register(registry);
    }

    /** Counts the incidents the detectors opened. */
    void opened(List<IncidentStore.Opened> opened) {
        MeterRegistry r = registry;
        if (r == null) {
            return;
        }
        for (IncidentStore.Opened o : opened) {
            detections.computeIfAbsent(o.detection().detector(), code -> Counter.builder("carapace.incident.detections")
                    .tag("detector", code).description("Incidents opened by each detector").register(r)).increment();
        }
    }

    /** Counts overdue clocks raised as alerts (one entry per incident and clock). */
    void overdueRaised(List<String> clocks) {
        for (String clockName : clocks) {
            Counter counter = overdueAlerts.get(clockName);
            if (counter != null) {
                counter.increment();
            }
        }
    }

    /** Records a first containment. */
    void contained(Duration sinceDetection) {
        DistributionSummary summary = timeToContain;
        if (summary != null) {
            summary.record(sinceDetection.toMillis() / 1000.0);
        }
    }

    @Override
    public void refreshBeforeScrape() {
        Instant now = clock.instant();
        Map<Severity, Long> open = new EnumMap<>(Severity.class);
        for (Severity s : Severity.values()) {
            open.put(s, 0L);
        }
        jdbc.sql("select severity, count(*) from incident.incident where state in ('open', 'acknowledged', 'contained')"
                        + " and not drill group by severity")
                .query(rs -> {
                    open.put(Severity.of(rs.getString(1)), rs.getLong(2));
                });
        Map<String, Long> overdue = new ConcurrentHashMap<>();
        CLOCKS.forEach(c -> overdue.put(c, 0L));
        for (OverdueClocks.Running incident : OverdueClocks.overdue(jdbc, now)) {
            incident.overdue().keySet().forEach(c -> overdue.merge(c, 1L, Long::sum));
        }
        long pending = jdbc.sql("select count(*) from incident.alert_outbox where queue = ? and delivered_at is null"
                + " and dead_at is null").param(AlertOutbox.QUEUE).query(Long.class).single();
        long dead = deadAlerts(jdbc);
        long position = jdbc.sql("select last_leaf from incident.reader_position where reader = ?")
                .param(DetectorRunner.READER).query(Long.class).optional().orElse(-1L);
        values.set(new Values(open, overdue, Math.max(0, feed.lastSealedLeaf() - position), pending, dead));
    }

    /** Alerts given up on whose incident is not closed yet: someone may never have been told. */
    static long deadAlerts(JdbcClient jdbc) {
        return jdbc.sql("""
                select count(*) from incident.alert_outbox a join incident.incident i on i.id = a.incident_id
                where a.dead_at is not null and i.closed_at is null""").query(Long.class).single();
    }
}
