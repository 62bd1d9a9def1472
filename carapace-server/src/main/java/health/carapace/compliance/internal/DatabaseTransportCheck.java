package health.carapace.compliance.internal;

import health.carapace.compliance.CheckResult;
import health.carapace.compliance.ComplianceCheck;
import health.carapace.compliance.Rule;
import java.time.Instant;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * The PHI connection to PostgreSQL is TLS, as the database itself reports it ({@code pg_stat_ssl}
 * for this session). start-dev's embedded database on loopback has none and fails here on purpose.
 */
@Component
class DatabaseTransportCheck implements ComplianceCheck {

    private final JdbcClient jdbc;

    DatabaseTransportCheck(DataSource dataSource) {
        this.jdbc = JdbcClient.create(dataSource);
    }

    @Override
    public String id() {
        return "platform.database-tls";
    }

    @Override
    public String title() {
        return "The connection to PostgreSQL is encrypted (TLS)";
    }

    @Override
    public List<Rule> rules() {
        return List.of(Rule.TRANSMISSION_ENCRYPTION, Rule.NPRM_ENCRYPTION_IN_TRANSIT);
    }

    @Override
    public CheckResult evaluate(Instant now) {
        var row = jdbc.sql("select ssl, coalesce(version, ''), coalesce(cipher, '') from pg_stat_ssl where pid = pg_backend_pid()")
                .query((rs, n) -> new Object[] {rs.getBoolean(1), rs.getString(2), rs.getString(3)}).single();
        boolean ssl = (Boolean) row[0];
        CheckResult.Evidence evidence = CheckResult.Evidence.of()
                .with("TLS on the PHI connection", ssl)
                .with("protocol", ssl ? row[1] : "-")
                .with("cipher", ssl ? row[2] : "-")
                .with("what crosses it", "ciphertext of records, blind-index tokens, audit events (no PHI in clear)");
        return CheckResult.passIf(ssl, "the database connection is not TLS (start-dev's embedded database)", evidence);
    }
}
