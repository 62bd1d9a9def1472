package health.carapace.incident.internal;

import health.carapace.audit.AuditFeed.SealedEvent;
import health.carapace.incident.Severity;
import java.util.ArrayList;
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

    @Override
    public void startOfBatch(List<SealedEvent> batch) {
        // Another node may have read between batches: histories are read afresh, all in one query.
        histories.clear();
        Set<String> principals = new HashSet<>();
        for (SealedEvent sealed : batch) {
            if (AuditedAccess.recordUse(sealed.event())) {
                principals.add(sealed.event().user());
            }
        }
        if (principals.isEmpty()) {
            return;
        }
        for (String principal : principals) {
            histories.put(principal, new long[24]);
        }
        jdbc.sql("select principal, hour, accesses from incident.hour_of_day where principal = any(?::text[])")
                .param(principals.toArray(String[]::new))
                .query(rs -> {
                    histories.get(rs.getString(1))[rs.getInt(2)] = rs.getLong(3);
                });
    }

    private long[] history(String principal) {
        // loaded at the start of the batch; a detector driven without it (a test) reads one principal here
        return histories.computeIfAbsent(principal, p -> {
            long[] counts = new long[24];
            jdbc.sql("select hour, accesses from incident.hour_of_day where principal = ?").param(p)
                    .query(rs -> {
                        counts[rs.getInt(1)] = rs.getLong(2);
                    });
            return counts;
        });
    }

    @Override
    public void endOfBatch(List<Detection> found) {
        List<String> principals = new ArrayList<>();
        List<Integer> hours = new ArrayList<>();
        List<Long> accesses = new ArrayList<>();
        pending.forEach((principal, counts) -> {
            for (int hour = 0; hour < 24; hour++) {
                if (counts[hour] > 0) {
                    principals.add(principal);
                    hours.add(hour);
                    accesses.add(counts[hour]);
                }
            }
        });
        if (!principals.isEmpty()) {
            jdbc.sql("""
                    insert into incident.hour_of_day (principal, hour, accesses)
                    select * from unnest(?::text[], ?::integer[], ?::bigint[])
                    on conflict (principal, hour) do update
                        set accesses = incident.hour_of_day.accesses + excluded.accesses""")
                    .params(principals.toArray(String[]::new), hours.toArray(Integer[]::new),
                            accesses.toArray(Long[]::new))
                    .update();
        }
        pending.clear();
        histories.clear();
    }
}
