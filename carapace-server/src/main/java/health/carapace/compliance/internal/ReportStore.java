package health.carapace.compliance.internal;

import health.carapace.compliance.ComplianceReports;
import health.carapace.compliance.ComplianceReports.Overall;
import health.carapace.compliance.ComplianceReports.Stored;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/** The append-only tables of the compliance schema: signed reports and scan results. */
@Component
class ReportStore {

    private final JdbcClient jdbc;

    ReportStore(DataSource dataSource) {
        this.jdbc = JdbcClient.create(dataSource);
    }

    void insert(Stored report, String keyId, byte[] reportSha256) {
        jdbc.sql("insert into compliance.report (id, measured_at, overall, key_id, signed, sha256) values (?, ?, ?, ?, ?, ?)")
                .params(report.id(), Timestamp.from(report.measuredAt()), report.overall().name().toLowerCase(Locale.ROOT),
                        keyId, report.signedFile(), reportSha256)
                .update();
    }

    /** SHA-256 of the newest report's bytes, for the chain; empty before the first. */
    Optional<byte[]> lastSha256() {
        return jdbc.sql("select sha256 from compliance.report order by measured_at desc, id desc limit 1")
                .query(byte[].class).optional();
    }

    Optional<Instant> lastReportAt() {
        return jdbc.sql("select max(measured_at) from compliance.report").query((rs, n) -> rs.getTimestamp(1))
                .optional().filter(java.util.Objects::nonNull).map(Timestamp::toInstant);
    }

    List<Stored> all() {
        return jdbc.sql("select id, measured_at, overall, signed from compliance.report order by measured_at, id")
                .query((rs, n) -> stored(rs)).list();
    }

    Optional<Stored> latest() {
        return jdbc.sql("select id, measured_at, overall, signed from compliance.report order by measured_at desc, id desc limit 1")
                .query((rs, n) -> stored(rs)).optional();
    }

    Optional<Stored> byId(UUID id) {
        return jdbc.sql("select id, measured_at, overall, signed from compliance.report where id = ?").param(id)
                .query((rs, n) -> stored(rs)).optional();
    }

    void insertScan(ComplianceReports.Scan scan) {
        jdbc.sql("insert into compliance.scan (finished_at, target, passed, findings, summary) values (?, ?, ?, ?, ?)")
                .params(Timestamp.from(scan.finishedAt()), scan.target(), scan.passed(), scan.findingsAboveThreshold(),
                        scan.summary())
                .update();
    }

    Optional<ComplianceReports.Scan> lastScan() {
        return jdbc.sql("select finished_at, target, passed, findings, summary from compliance.scan order by id desc limit 1")
                .query((rs, n) -> new ComplianceReports.Scan(rs.getTimestamp(1).toInstant(), rs.getString(2),
                        rs.getBoolean(3), rs.getInt(4), rs.getString(5)))
                .optional();
    }

    private static Stored stored(java.sql.ResultSet rs) throws java.sql.SQLException {
        return new Stored(rs.getObject(1, UUID.class), rs.getTimestamp(2).toInstant(),
                Overall.valueOf(rs.getString(3).toUpperCase(Locale.ROOT)), rs.getBytes(4));
    }
}
