package health.carapace.access;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Who is in a care relationship with which patient (minimum necessary, HIPAA §164.502(b)): a
 * practitioner named in a CareTeam or as an Encounter participant, or a user explicitly assigned.
 * The records module keeps the CareTeam and Encounter rows in step with every write, inside the
 * write's own transaction, from the plaintext it has at that moment; the table holds references
 * only (see docs/SECURITY.md for what it reveals).
 */
@Service
public class CareRelationships {

    /** The source of rows written by an administrator rather than derived from a record. */
    public static final String ASSIGNMENT = "assignment";

    private static final Pattern PATIENT = Pattern.compile(
            "Patient/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    private final JdbcClient jdbc;
    private final AuditTrail audit;
    private final TransactionTemplate transactions;

    CareRelationships(DataSource dataSource, AuditTrail audit, PlatformTransactionManager transactionManager) {
        this.jdbc = JdbcClient.create(dataSource);
        this.audit = audit;
        this.transactions = new TransactionTemplate(transactionManager);
    }

    /** The member reference of a practitioner: what CareTeam and Encounter rows link. */
    public static String practitioner(UUID practitionerId) {
        return "Practitioner/" + practitionerId;
    }

    /** The member reference of a user (or service client) principal: what assignments link. */
    public static String user(String principal) {
        return "User/" + principal;
    }

    /**
     * Replaces every relationship that {@code source} (e.g. {@code CareTeam/<id>}) asserts. Runs in
     * the caller's transaction, so the record and its relationships commit or roll back together.
     *
     * @param patient the source's patient compartment ({@code Patient/<uuid>}), or null when the
     *     source names no patient (then it asserts nothing)
     */
    public void replace(String source, String patient, Collection<UUID> practitioners) {
        remove(source);
        if (patient == null || !PATIENT.matcher(patient).matches() || practitioners.isEmpty()) {
            return;
        }
        List<Object> args = new ArrayList<>();
        StringBuilder values = new StringBuilder();
        for (UUID practitioner : new LinkedHashSet<>(practitioners)) {
            values.append(values.isEmpty() ? "" : ", ").append("(?, ?, ?)");
            args.add(practitioner(practitioner));
            args.add(patient);
            args.add(source);
        }
        jdbc.sql("insert into iam.care_relationship (member, patient, source) values " + values).params(args).update();
    }

    /** Removes what {@code source} asserted (the record was deleted). In the caller's transaction. */
    public void remove(String source) {
        jdbc.sql("delete from iam.care_relationship where source = ?").param(source).update();
    }

    /**
     * Assigns a user to a patient explicitly; audited as an administrative change by {@code admin}.
     *
     * @return false if the assignment already existed
     */
    public boolean assign(String principal, String patient, String admin, AuditContext context) {
        requirePatient(patient);
        requirePrincipal(principal);
        return Boolean.TRUE.equals(transactions.execute(status -> {
            int inserted = jdbc.sql("insert into iam.care_relationship (member, patient, source) values (?, ?, ?) "
                            + "on conflict do nothing")
                    .params(user(principal), patient, ASSIGNMENT)
                    .update();
            audit.recordInTransaction(List.of(AuditEvent.now(admin, AuditAction.ADMIN_CHANGE,
                    "/admin/assignments/" + patient, context, true, patient, null, null)));
            return inserted == 1;
        }));
    }

    /** Ends an explicit assignment; audited. Returns false if there was none. */
    public boolean unassign(String principal, String patient, String admin, AuditContext context) {
        requirePatient(patient);
        requirePrincipal(principal);
        return Boolean.TRUE.equals(transactions.execute(status -> {
            int deleted = jdbc.sql("delete from iam.care_relationship where member = ? and patient = ? and source = ?")
                    .params(user(principal), patient, ASSIGNMENT)
                    .update();
            audit.recordInTransaction(List.of(AuditEvent.now(admin, AuditAction.ADMIN_CHANGE,
                    "/admin/assignments/" + patient, context, true, patient, null, null)));
            return deleted == 1;
        }));
    }

    /** Whether the caller (as a practitioner or as a user) is in a care relationship with the patient. */
    public boolean related(Caller caller, String patient) {
        return jdbc.sql("select exists (select 1 from iam.care_relationship where member = any(?) and patient = ?)")
                .params(members(caller), patient)
                .query(Boolean.class)
                .single();
    }

    /** The patients the caller is in a care relationship with. */
    public Set<String> patientsOf(Caller caller) {
        return new LinkedHashSet<>(jdbc.sql("select distinct patient from iam.care_relationship where member = any(?)")
                .param(members(caller))
                .query(String.class)
                .list());
    }

    /** The member references a caller answers to: their user principal and, if any, their practitioner. */
    static String[] members(Caller caller) {
        List<String> members = new ArrayList<>(2);
        members.add(user(caller.principal()));
        if (caller.practitionerId() != null) {
            members.add("Practitioner/" + caller.practitionerId());
        }
        return members.toArray(String[]::new);
    }

    static void requirePatient(String patient) {
        if (patient == null || !PATIENT.matcher(patient).matches()) {
            throw new IllegalArgumentException("a patient reference of the form Patient/<uuid> is required");
        }
    }

    private static void requirePrincipal(String principal) {
        if (principal == null || principal.isBlank() || principal.length() > 200 || principal.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("a user name of 1 to 200 printable characters is required");
        }
    }
}
