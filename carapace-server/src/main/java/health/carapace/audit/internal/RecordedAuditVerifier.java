package health.carapace.audit.internal;

import health.carapace.audit.AuditVerifier;
import java.sql.Timestamp;
import java.time.Clock;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Every full verification, from {@code audit verify} or the server's periodic run, leaves a row
 * in {@code audit.verification} (append-only): when, the result, and where it first failed. The
 * compliance report and the metrics read the last row instead of recomputing a year of trail.
 */
final class RecordedAuditVerifier implements AuditVerifier {

    private final AuditVerifier verifier;
    private final JdbcClient jdbc;
    private final Clock clock;

    RecordedAuditVerifier(AuditVerifier verifier, DataSource dataSource, Clock clock) {
        this.verifier = verifier;
        this.jdbc = JdbcClient.create(dataSource);
        this.clock = clock;
    }

    @Override
    public Report verify() {
        Report report = verifier.verify();
        jdbc.sql("""
                insert into audit.verification (finished_at, ok, events_checked, heads_checked, first_problem)
                values (?, ?, ?, ?, ?)""")
                .params(Timestamp.from(clock.instant()), report.ok(), report.eventsChecked(), report.headsChecked(),
                        report.firstProblem())
                .update();
        return report;
    }
}
