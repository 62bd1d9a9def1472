package health.carapace.incident.internal;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.records.FamilyNameIndex;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * What a privacy officer tells the detectors (audited, through {@code /admin/privacy/**}): which
 * Patient a principal is (self-access), and which patients are VIPs or employees (vip-access,
 * coworker-access). References and flags only.
 */
final class PrivacyRegister {

    /** Flags of one patient. */
    record Flags(boolean vip, boolean employee) {}

    /** What the detectors read at the start of each batch. */
    record Snapshot(Map<String, String> patientOfPrincipal, Map<String, Flags> flags,
            Map<String, FamilyNameIndex.Token> familyNameOfPrincipal) {
        static Snapshot empty() {
            return new Snapshot(Map.of(), Map.of(), Map.of());
        }
    }

    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;
    private final AuditTrail audit;
    private final Clock clock;

    PrivacyRegister(DataSource dataSource, TransactionTemplate transactions, AuditTrail audit, Clock clock) {
        this.jdbc = JdbcClient.create(dataSource);
        this.transactions = transactions;
        this.audit = audit;
        this.clock = clock;
    }

    /** Links a principal to the Patient that represents them (null patient: unlinks); audited. */
    void linkPatient(String principal, String patient, String actor, AuditContext context) {
        transactions.executeWithoutResult(status -> {
            jdbc.sql("""
                    insert into incident.principal_link (principal, patient, set_by, set_at) values (?, ?, ?, ?)
                    on conflict (principal) do update set patient = excluded.patient, set_by = excluded.set_by,
                        set_at = excluded.set_at""")
                    .params(principal, patient, actor, Timestamp.from(clock.instant()))
                    .update();
            audit.recordInTransaction(List.of(AuditEvent.now(actor, AuditAction.ADMIN_CHANGE,
                    "/admin/privacy/principals/" + principal, context, true, patient, null, null)));
        });
    }

    /**
     * Sets (or, with null, removes) the blind-index token of a principal's family name; audited.
     * Only the token is stored, never the name (docs/INCIDENTS.md, ADR 0029).
     */
    void familyName(String principal, FamilyNameIndex.Token token, String actor, AuditContext context) {
        transactions.executeWithoutResult(status -> {
            jdbc.sql("""
                    insert into incident.principal_link (principal, family_token, family_token_version, set_by, set_at)
                    values (?, ?, ?, ?, ?)
                    on conflict (principal) do update set family_token = excluded.family_token,
                        family_token_version = excluded.family_token_version, set_by = excluded.set_by,
                        set_at = excluded.set_at""")
                    .params(principal, token == null ? null : token.value(), token == null ? null : token.keyVersion(),
                            actor, Timestamp.from(clock.instant()))
                    .update();
            audit.recordInTransaction(List.of(AuditEvent.now(actor, AuditAction.ADMIN_CHANGE,
                    "/admin/privacy/principals/" + principal + "/family-name", context, true, null, null, null)));
        });
    }

    /** Sets a patient's flags; audited. */
    void flag(String patient, Flags flags, String actor, AuditContext context) {
        transactions.executeWithoutResult(status -> {
            jdbc.sql("""
                    insert into incident.patient_flag (patient, vip, employee, set_by, set_at) values (?, ?, ?, ?, ?)
                    on conflict (patient) do update set vip = excluded.vip, employee = excluded.employee,
                        set_by = excluded.set_by, set_at = excluded.set_at""")
                    .params(patient, flags.vip(), flags.employee(), actor, Timestamp.from(clock.instant()))
                    .update();
            audit.recordInTransaction(List.of(AuditEvent.now(actor, AuditAction.ADMIN_CHANGE,
                    "/admin/privacy/patients/" + patient.substring("Patient/".length()) + "/flags", context, true,
                    patient, null, null)));
        });
    }

    Snapshot snapshot() {
        Map<String, String> links = new HashMap<>();
        jdbc.sql("select principal, patient from incident.principal_link where patient is not null")
                .query(rs -> {
                    links.put(rs.getString(1), rs.getString(2));
                });
        Map<String, Flags> flags = new HashMap<>();
        jdbc.sql("select patient, vip, employee from incident.patient_flag where vip or employee")
                .query(rs -> {
                    flags.put(rs.getString(1), new Flags(rs.getBoolean(2), rs.getBoolean(3)));
                });
        Map<String, FamilyNameIndex.Token> families = new HashMap<>();
        jdbc.sql("select principal, family_token_version, family_token from incident.principal_link "
                + "where family_token is not null")
                .query(rs -> {
                    families.put(rs.getString(1), new FamilyNameIndex.Token(rs.getInt(2), rs.getInt(3)));
                });
        return new Snapshot(links, flags, families);
    }
}
