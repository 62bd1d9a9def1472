package health.carapace.incident.internal;

import health.carapace.audit.AuditFeed;
import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * {@code incident.procedures} (§164.308(a)(6)): security incidents are detected and tracked with
 * deadlines, none is past its isolate (15 minutes) or alert (60 minutes) deadline unmet, and no
 * alert about an incident not yet closed was given up on (the outbox's dead letters, ADR 0036).
 * Counts only; drill incidents are left out. Drills themselves are not built yet: their rule
 * (§164.308(a)(7)(ii)(D)) stays declared by the compliance module as {@code incident.drills}.
 */
final class IncidentProceduresCheck implements ComplianceCheck {

    private final JdbcClient jdbc;
    private final AuditFeed feed;

    IncidentProceduresCheck(DataSource dataSource, AuditFeed feed) {
        this.jdbc = JdbcClient.create(dataSource);
        this.feed = feed;
    }

    @Override
    public String id() {
        return "incident.procedures";
    }

    @Override
    public String title() {
        return "Security incidents detected and tracked with deadlines; none past its isolate or alert deadline";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.SECURITY_INCIDENT_PROCEDURES);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        long open = count("true", now);
        long isolateOverdue = count("contained_at is null and detected_at < ?", now.minus(IncidentStore.ISOLATE_WITHIN));
        long alertOverdue = count("alerted_at is null and acknowledged_at is null and detected_at < ?",
                now.minus(IncidentStore.ALERT_WITHIN));
        long position = jdbc.sql("select last_leaf from incident.reader_position where reader = ?")
                .param(DetectorRunner.READER).query(Long.class).optional().orElse(-1L);
        long lag = Math.max(0, feed.lastSealedLeaf() - position);
        long deadAlerts = IncidentMetrics.deadAlerts(jdbc);
        CheckResult.Evidence evidence = CheckResult.Evidence.of()
                .with("incidents not closed", open)
                .with("past the isolate deadline", isolateOverdue)
                .with("past the alert deadline", alertOverdue)
                .with("detector lag (sealed events not yet read)", lag)
                .with("alerts given up on (incident not closed)", deadAlerts);
        return CheckResult.passIf(isolateOverdue == 0 && alertOverdue == 0 && deadAlerts == 0,
                "incidents past their isolate or alert deadline, or alerts that could not be delivered", evidence);
    }

    private long count(String condition, Instant before) {
        String sql = "select count(*) from incident.incident where closed_at is null and not drill and " + condition;
        var statement = jdbc.sql(sql);
        return (condition.contains("?") ? statement.param(Timestamp.from(before)) : statement)
                .query(Long.class).single();
    }
}
