package health.carapace.incident.internal;

import health.carapace.audit.AuditFeed.SealedEvent;
import health.carapace.incident.Severity;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * {@code unusual-hours}: an access at an hour of the day (in the configured zone) that makes up
 * less than {@code max-share} of the principal's own history, once that history holds at least
 * {@code min-history} accesses; inside the role's time window or not. And every break-glass use,
 * whatever the hour. The history is a count per principal and hour of day
 * ({@code incident.hour_of_day}), brought up to date at the end of each batch.
 */
final class UnusualHoursDetector implements Detector {

    static final String CODE = "unusual-hours";

    private final JdbcClient jdbc;
    private final IncidentSettings settings;
    /** Histories read this batch (or earlier, kept current), by principal: 24 counts. */
    private final Map<String, long[]> histories = new HashMap<>();
    private final Map<String, long[]> pending = new HashMap<>();
    private final Set<String> loaded = new HashSet<>();

    UnusualHoursDetector(DataSource dataSource, IncidentSettings settings) {
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
        if (AuditedAccess.breakGlass(e)) {
            found.add(Detection.of(CODE, Severity.MEDIUM, sealed, "break-glass"));
        }
        if (!AuditedAccess.recordUse(e)) {
            return;
        }
        int hour = e.timestamp().atZone(settings.unusualHoursZone()).getHour();
        long[] history = history(e.user());
        long total = 0;
        for (long n : history) {
            total += n;
        }
        if (total >= settings.unusualHoursMinHistory() && history[hour] < settings.unusualHoursMaxShare() * total) {
            found.add(Detection.of(CODE, Severity.MEDIUM, sealed, "hour:" + hour));
        }
        history[hour]++;
        pending.computeIfAbsent(e.user(), p -> new long[24])[hour]++;
    }

    private long[] history(String principal) {
        if (loaded.add(principal)) {
            long[] counts = new long[24];
            jdbc.sql("select hour, accesses from incident.hour_of_day where principal = ?").param(principal)
                    .query(rs -> {
                        counts[rs.getInt(1)] = rs.getLong(2);
                    });
            histories.put(principal, counts);
        }
        return histories.get(principal);
    }

    @Override
    public void endOfBatch(List<Detection> found) {
        pending.forEach((principal, counts) -> {
            for (int hour = 0; hour < 24; hour++) {
                if (counts[hour] > 0) {
                    jdbc.sql("""
                            insert into incident.hour_of_day (principal, hour, accesses) values (?, ?, ?)
                            on conflict (principal, hour) do update
                                set accesses = incident.hour_of_day.accesses + excluded.accesses""")
                            .params(principal, hour, counts[hour]).update();
                }
            }
        });
        pending.clear();
        // Another node may take over the reader between batches: read histories afresh next batch.
        histories.clear();
        loaded.clear();
    }
}
