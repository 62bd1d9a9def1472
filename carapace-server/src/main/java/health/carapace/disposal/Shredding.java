package health.carapace.disposal;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditUnavailableException;
import health.carapace.crypto.KeyShredder;
import health.carapace.records.Compartment;
import health.carapace.records.PatientRecords;
import health.carapace.platform.logging.SafeMessage;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Crypto-shredding under dual control: the disposal of a patient's records past retention
 * (HIPAA §164.310(d)(2)(i)). One administrator requests it with a retention reference; a
 * different administrator approves it before it expires; only then are the patient's data keys
 * destroyed, after which every record of the patient is unrecoverable (docs/adr/0011).
 *
 * <p>Approval writes the tombstone ({@code phi.shredded_compartment}) in the same transaction
 * as the approval and its audit event, so every node refuses the patient's records from that
 * commit on; the keyring deletion follows, and is resumed after a crash until it is done.
 */
@Service
public class Shredding {

    private static final Logger log = LoggerFactory.getLogger(Shredding.class);

    private final org.springframework.context.ApplicationEventPublisher events;

    /**
     * A retention reference, not prose: a case or policy code such as {@code RET-2019-0042}. Free
     * text would invite a patient's name into a table that outlives their records.
     */
    private static final Pattern REASON = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/#-]{0,63}");
    private static final Pattern UUID_SHAPE =
            Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    /** One shredding request. Holds references only: a patient id, principals, a reference code. */
    public record Request(UUID id, String patient, String reason, String requestedBy, Instant requestedAt,
            Instant expiresAt, String state, String decidedBy, Instant decidedAt, Instant executedAt) {}

    /** Where the request was made from, for the audit trail. */
    public record Origin(String admin, AuditContext context, String requestId) {}

    /** A refusal with an HTTP status and a message that echoes nothing from the request. */
    public static final class Refused extends RuntimeException implements SafeMessage {
        private final int status;

        public Refused(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;
    private final AuditTrail audit;
    private final KeyShredder keys;
    /** The patient records' side: whether a patient exists or is shredded, and the tombstone. */
    private final PatientRecords records;
    private final Duration approvalWindow;
    /** When requests are made, decided and expire: the one clock, never the database's (tests move it). */
    private final java.time.Clock clock;

    Shredding(DataSource dataSource, PlatformTransactionManager transactionManager, AuditTrail audit, KeyShredder keys,
            PatientRecords records, @Value("${carapace.shredding.approval-window}") Duration approvalWindow,
            java.time.Clock clock, org.springframework.context.ApplicationEventPublisher events) {
        if (approvalWindow.isNegative() || approvalWindow.isZero() || approvalWindow.compareTo(Duration.ofDays(7)) > 0) {
            throw new IllegalStateException("carapace.shredding.approval-window must be between 1 second and 7 days");
        }
        this.jdbc = JdbcClient.create(dataSource);
        this.transactions = new TransactionTemplate(transactionManager);
        this.audit = audit;
        this.keys = keys;
        this.records = records;
        this.approvalWindow = approvalWindow;
        this.clock = clock;
        this.events = events;
    }

    /** Asks for a patient's records to be shredded; another administrator must approve. */
    public Request request(Origin origin, String patientId, String reason) {
        if (patientId == null || !UUID_SHAPE.matcher(patientId.startsWith("Patient/")
                ? patientId.substring("Patient/".length()) : patientId).matches()) {
            throw new Refused(400, "patient must be a Patient id");
        }
        if (reason == null || !REASON.matcher(reason).matches()) {
            throw new Refused(400, "reason must be a retention reference of 1 to 64 letters, digits or ._:/#- "
                    + "(a case or policy code, not prose)");
        }
        UUID patient = UUID.fromString(patientId.startsWith("Patient/") ? patientId.substring(8) : patientId);
        Compartment target = new Compartment(patient);
        String compartment = target.toString();
        UUID id = UUID.randomUUID();
        transactions.executeWithoutResult(status -> {
            expireOverdue();
            if (!records.exists(target)) {
                throw new Refused(404, "No such Patient");
            }
            if (records.shredded(target)) {
                throw new Refused(409, "This patient's records are already shredded");
            }
            // Serialise requests for one patient, so the open-request rule is a clean refusal.
            jdbc.sql("select pg_advisory_xact_lock(hashtext(?))").param("shredding-request/" + compartment)
                    .query((rs, n) -> 1).list();
            boolean open = jdbc.sql("select exists (select 1 from ops.shredding_request where compartment = ? "
                            + "and state in ('pending', 'approved'))")
                    .param(compartment).query(Boolean.class).single();
            if (open) {
                throw new Refused(409, "A shredding request for this patient is already open");
            }
            Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
            jdbc.sql("""
                    insert into ops.shredding_request
                      (request_id, compartment, reason, requested_by, requested_at, expires_at, state)
                    values (?, ?, ?, ?, ?, ?, 'pending')""")
                    .params(id, compartment, reason, origin.admin(), Timestamp.from(now),
                            Timestamp.from(now.plus(approvalWindow)))
                    .update();
            audit.recordInTransaction(List.of(event(origin, AuditAction.ADMIN_CHANGE, path(id), true, compartment)));
        });
        return find(id).orElseThrow();
    }

    /**
     * Approves a pending request and destroys the patient's keys. Idempotent: approving a request
     * that is already approved or executed returns it unchanged. The requester can never approve.
     */
    public Request approve(Origin origin, UUID id) {
        Request current = transactions.execute(status -> {
            expireOverdue();
            Request request = lock(id);
            if (request.requestedBy().equals(origin.admin())) {
                throw new Refused(403, "Dual control: the administrator who requested shredding cannot approve it");
            }
            switch (request.state()) {
                case "approved", "executed" -> {
                    return request;
                }
                case "pending" -> { }
                default -> throw new Refused(409, "The request is " + request.state() + " and can no longer be approved");
            }
            Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
            jdbc.sql("update ops.shredding_request set state = 'approved', decided_by = ?, decided_at = ? "
                            + "where request_id = ?")
                    .params(origin.admin(), Timestamp.from(now), id)
                    .update();
            // The tombstone, after every write in flight (records waits for them): from this commit
            // on, every node refuses the patient's records; their blind-index tokens go with it.
            records.tombstone(Compartment.parse(request.patient()), id, now, request.requestedBy(), origin.admin());
            // In the same transaction: copies made of the patient's records (export files) go with them.
            events.publishEvent(new PatientShredded(Compartment.parse(request.patient()), id));
            audit.recordInTransaction(List.of(event(origin, AuditAction.ADMIN_CHANGE, path(id) + "/approve", true,
                    request.patient())));
            return lock(id);
        });
        if (current.state().equals("approved")) {
            try {
                execute(id, origin);
            } catch (RuntimeException e) {
                // The tombstone already refuses every read and write; the keyring deletion is
                // retried by resumeApproved until it succeeds.
                log.warn("Crypto-shredding approved but the keyring deletion failed; it will be retried", e);
            }
        }
        return find(id).orElseThrow();
    }

    /**
     * Refuses (or, by its requester, withdraws) a pending request. Idempotent: refusing a refused
     * request returns it unchanged. Refusing destroys nothing, so one administrator suffices.
     */
    public Request refuse(Origin origin, UUID id) {
        transactions.executeWithoutResult(status -> {
            expireOverdue();
            Request request = lock(id);
            switch (request.state()) {
                case "refused" -> {
                    return;
                }
                case "pending" -> { }
                default -> throw new Refused(409, "The request is " + request.state() + " and can no longer be refused");
            }
            jdbc.sql("update ops.shredding_request set state = 'refused', decided_by = ?, decided_at = ? "
                            + "where request_id = ?")
                    .params(origin.admin(), java.sql.Timestamp.from(clock.instant()), id)
                    .update();
            audit.recordInTransaction(List.of(event(origin, AuditAction.ADMIN_CHANGE, path(id) + "/refuse", true,
                    request.patient())));
        });
        return find(id).orElseThrow();
    }

    /** Audits a refused attempt (self-approval, say), in its own commit: the refusal's transaction rolled back. */
    public void auditRefusal(Origin origin, String resource, Refused refusal) {
        try {
            audit.record(List.of(event(origin, refusal.status() == 403 ? AuditAction.DENIED : AuditAction.ADMIN_CHANGE,
                    resource, false, null)));
        } catch (AuditUnavailableException e) {
            log.warn("A refused shredding action could not be audited", e);
        }
    }

    /** Every request, newest first (at most 1000). */
    public List<Request> list() {
        transactions.executeWithoutResult(status -> expireOverdue());
        return jdbc.sql("select " + COLUMNS + " from ops.shredding_request order by requested_at desc limit 1000")
                .query(Shredding::request)
                .list();
    }

    /**
     * Every request this installation approved (executed or not yet): the shreddings its database
     * holds, which a restore's shredding ledger must list (ADR 0040). Ids only, in no order.
     */
    public List<UUID> approvedRequests() {
        return jdbc.sql("select request_id from ops.shredding_request where state in ('approved', 'executed')")
                .query(UUID.class)
                .list();
    }

    public Optional<Request> find(UUID id) {
        return jdbc.sql("select " + COLUMNS + " from ops.shredding_request where request_id = ?")
                .param(id)
                .query(Shredding::request)
                .optional();
    }

    /**
     * Marks a request executed because the shredding ledger applied it (a restore, or
     * {@code keys shredding reapply}): the patient is tombstoned and their keys are gone, so the
     * request must not stay pending, where it could be refused or expire and a node could then take
     * the shredding for one that never happened (s8 review M1). Nothing if this database does not
     * hold the request or it is already executed. The decider is the ledger's approver, or the
     * ledger itself when it names none (or names the requester, which dual control forbids).
     */
    public void executedByLedger(UUID id, Instant approvedAt, String approvedBy) {
        String ledger = "system:shredding-ledger";
        String decider = approvedBy == null ? ledger : approvedBy;
        Instant now = clock.instant();
        jdbc.sql("""
                update ops.shredding_request
                   set state = 'executed',
                       decided_by = case when requested_by = ? then ? else ? end,
                       decided_at = coalesce(decided_at, ?),
                       executed_at = coalesce(executed_at, ?)
                 where request_id = ? and state <> 'executed'""")
                .params(decider, ledger, decider, Timestamp.from(approvedAt == null ? now : approvedAt),
                        Timestamp.from(now), id)
                .update();
    }

    /**
     * Finishes approved requests whose keyring deletion has not happened (a crash or a keyring
     * outage between approval and deletion). Safe to run on every node at once.
     */
    public int resumeApproved() {
        List<UUID> due = jdbc.sql("select request_id from ops.shredding_request where state = 'approved'")
                .query(UUID.class)
                .list();
        for (UUID id : due) {
            execute(id, new Origin("system:shredding-resumption", AuditContext.none(), null));
        }
        return due.size();
    }

    private void execute(UUID id, Origin origin) {
        Request request = find(id).orElseThrow();
        int deleted = keys.shred(request.patient(), id);
        transactions.executeWithoutResult(status -> {
            int marked = jdbc.sql("update ops.shredding_request set state = 'executed', executed_at = ? "
                            + "where request_id = ? and state = 'approved'")
                    .params(java.sql.Timestamp.from(clock.instant()), id)
                    .update();
            if (marked == 1) {
                // The destruction itself: the patient's data keys are deleted from the keyring.
                audit.recordInTransaction(List.of(event(origin, AuditAction.DELETED,
                        "/keyring/dek/" + request.patient(), true, request.patient())));
            }
        });
        log.info("Crypto-shredding executed: {} wrapped data keys destroyed for request {}", deleted, id);
    }

    private boolean tombstoned(String compartment) {
        return records.shredded(Compartment.parse(compartment));
    }

    private void expireOverdue() {
        jdbc.sql("update ops.shredding_request set state = 'expired' where state = 'pending' and expires_at <= ?")
                .param(java.sql.Timestamp.from(clock.instant()))
                .update();
    }

    private Request lock(UUID id) {
        return jdbc.sql("select " + COLUMNS + " from ops.shredding_request where request_id = ? for update")
                .param(id)
                .query(Shredding::request)
                .optional()
                .orElseThrow(() -> new Refused(404, "No such shredding request"));
    }

    private static AuditEvent event(Origin origin, AuditAction action, String resource, boolean success, String patient) {
        return AuditEvent.now(origin.admin(), action, resource, origin.context(), success, patient, null,
                origin.requestId());
    }

    private static String path(UUID id) {
        return "/admin/keys/shredding/" + id;
    }

    private static final String COLUMNS = "request_id, compartment, reason, requested_by, requested_at, expires_at, "
            + "state, decided_by, decided_at, executed_at";

    private static Request request(ResultSet rs, int n) throws SQLException {
        return new Request(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3), rs.getString(4),
                instant(rs, 5), instant(rs, 6), rs.getString(7), rs.getString(8), instant(rs, 9), instant(rs, 10));
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        Timestamp t = rs.getTimestamp(column);
        return t == null ? null : t.toInstant();
    }
}
