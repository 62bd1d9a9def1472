package health.carapace.access;

import health.carapace.access.internal.BreakGlassReasons;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.crypto.KeyDestroyedException;
import health.carapace.crypto.KeyMissingException;
import health.carapace.crypto.RecordCipher;
import health.carapace.platform.logging.RequestIds;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Emergency access (HIPAA §164.312(a)(2)(ii)): a caller opens time-boxed access to one patient,
 * with a mandatory reason. While the grant is open the policy is asked with
 * {@link PatientRelation#BREAK_GLASS}, which lifts the care-relationship and time-window
 * requirements but never the IP range (unless the role says so). Opening and closing are
 * audited; every access it allows is audited with the break-glass flag, for review.
 */
@Service
public class BreakGlass {

    /** Longest reason accepted, in characters. */
    public static final int MAX_REASON_LENGTH = 1000;
    private static final Duration MAX_DURATION = Duration.ofHours(24);

    /** One open grant. */
    public record Grant(UUID id, String principal, String patient, Instant openedAt, Instant expiresAt) {}

    private final JdbcClient jdbc;
    private final RecordCipher cipher;
    /** The records module's tombstone: a shredded patient's reasons are not opened. */
    private final ShreddedPatients shredded;
    private final AuditTrail audit;
    private final TransactionTemplate transactions;
    private final ApplicationEventPublisher events;
    private final Duration duration;
    /** When a grant opens, closes and expires: the one clock (tests move it). */
    private final java.time.Clock clock;

    BreakGlass(DataSource dataSource, RecordCipher cipher, AuditTrail audit, PlatformTransactionManager transactionManager,
            ApplicationEventPublisher events, ShreddedPatients shredded,
            @Value("${carapace.access.break-glass-duration:PT60M}") Duration duration, java.time.Clock clock) {
        if (duration.isNegative() || duration.isZero() || duration.compareTo(MAX_DURATION) > 0) {
            throw new IllegalStateException("carapace.access.break-glass-duration must be between 1 second and 24 hours");
        }
        this.jdbc = JdbcClient.create(dataSource);
        this.cipher = cipher;
        this.shredded = shredded;
        this.audit = audit;
        this.transactions = new TransactionTemplate(transactionManager);
        this.events = events;
        this.clock = clock;
        this.duration = duration;
    }

    /**
     * Opens emergency access for {@code caller} to {@code patient} (which the caller has checked
     * exists). The reason is stored only as ciphertext under the patient's data key; an open grant
     * for the same patient is replaced, so there is one at a time.
     *
     * @throws IllegalArgumentException if the reason is empty or too long, or the patient reference is malformed
     */
    public Grant open(Caller caller, String patient, String reason, AuditContext context) {
        CareRelationships.requirePatient(patient);
        String stripped = reason == null ? "" : reason.strip();
        if (stripped.isEmpty() || stripped.length() > MAX_REASON_LENGTH) {
            throw new IllegalArgumentException("a reason of 1 to " + MAX_REASON_LENGTH + " characters is required");
        }
        UUID id = UUID.randomUUID();
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        Grant grant = new Grant(id, caller.principal(), patient, now, now.plus(duration));
        byte[] sealed = cipher.encrypt(patient, stripped.getBytes(StandardCharsets.UTF_8), associatedData(id, patient));
        transactions.executeWithoutResult(status -> {
            jdbc.sql("update iam.break_glass set closed_at = ? where principal = ? and patient = ? and closed_at is null "
                            + "and expires_at > ?")
                    .params(Timestamp.from(now), caller.principal(), patient, Timestamp.from(now))
                    .update();
            jdbc.sql("insert into iam.break_glass (grant_id, principal, patient, opened_at, expires_at, reason) "
                            + "values (?, ?, ?, ?, ?, ?)")
                    .params(id, caller.principal(), patient, Timestamp.from(now), Timestamp.from(grant.expiresAt()), sealed)
                    .update();
            audit.recordInTransaction(List.of(event(caller, "/fhir/$break-glass", patient, context, now)));
        });
        events.publishEvent(new BreakGlassOpened(id, caller.principal(), patient, now, grant.expiresAt()));
        return grant;
    }

    /** Closes the caller's open grant to the patient before it expires; audited. False if none was open. */
    public boolean close(Caller caller, String patient, AuditContext context) {
        CareRelationships.requirePatient(patient);
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        return Boolean.TRUE.equals(transactions.execute(status -> {
            int closed = jdbc.sql("update iam.break_glass set closed_at = ? where principal = ? and patient = ? "
                            + "and closed_at is null and expires_at > ?")
                    .params(Timestamp.from(now), caller.principal(), patient, Timestamp.from(now))
                    .update();
            if (closed > 0) {
                audit.recordInTransaction(List.of(event(caller, "/fhir/$break-glass-close", patient, context, now)));
            }
            return closed > 0;
        }));
    }

    /** The caller's grant to the patient that is open at {@code at}, if any. */
    public Optional<Grant> openGrant(Caller caller, String patient, Instant at) {
        return jdbc.sql("select grant_id, principal, patient, opened_at, expires_at from iam.break_glass "
                        + "where principal = ? and patient = ? and closed_at is null and opened_at <= ? and expires_at > ? "
                        + "order by opened_at desc limit 1")
                .params(caller.principal(), patient, Timestamp.from(at), Timestamp.from(at))
                .query(BreakGlass::grant)
                .optional();
    }

    /** Patients the caller holds open emergency access to at {@code at}. */
    public Set<String> openPatients(Caller caller, Instant at) {
        return Set.copyOf(jdbc.sql("select distinct patient from iam.break_glass "
                        + "where principal = ? and closed_at is null and opened_at <= ? and expires_at > ?")
                .params(caller.principal(), Timestamp.from(at), Timestamp.from(at))
                .query(String.class)
                .list());
    }

    /**
     * The reason given for a grant, decrypted, for the reviewer of emergency accesses; empty if the
     * grant does not exist. The caller audits the review.
     */
    public Optional<String> reason(UUID grantId) {
        return jdbc.sql("select patient, reason from iam.break_glass where grant_id = ?")
                .param(grantId)
                .query((rs, n) -> new String(cipher.decrypt(rs.getString(1), rs.getBytes(2),
                        associatedData(grantId, rs.getString(1))), StandardCharsets.UTF_8))
                .optional();
    }

    /** What the reviewer of an emergency access found it to be. */
    public enum ReviewOutcome {
        APPROPRIATE, INAPPROPRIATE;

        /** The outcome as stored and as the admin API spells it. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        public static Optional<ReviewOutcome> ofLabel(String label) {
            for (ReviewOutcome outcome : values()) {
                if (outcome.label().equals(label)) {
                    return Optional.of(outcome);
                }
            }
            return Optional.empty();
        }
    }

    /**
     * One grant as the reviewer of emergency accesses sees it, reason decrypted; the reason is
     * null once the patient was crypto-shredded (it was encrypted under the destroyed keys), and
     * null with {@code reasonKeyMissing} when the patient's data key is missing from the keyring
     * without a tombstone (ADR 0049): that grant's reason cannot be read, the rest of the review can
     * (s9 review L-7). reviewedBy, reviewedAt and outcome are null while the grant awaits its review.
     */
    public record Review(UUID grantId, String principal, String patient, Instant openedAt, Instant expiresAt,
            Instant closedAt, String reason, String reviewedBy, Instant reviewedAt, ReviewOutcome outcome,
            boolean reasonKeyMissing) {

        public boolean awaitingReview() {
            return reviewedAt == null;
        }
    }

    /** What became of a review someone tried to record. */
    public enum Reviewing {
        RECORDED,
        NO_SUCH_GRANT,
        /** Nobody reviews their own emergency access. */
        OWN_GRANT,
        /** The grant is still open: what it will be used for is not known yet. */
        STILL_OPEN,
        /** A grant is reviewed once; the first review stands. */
        ALREADY_REVIEWED
    }

    /**
     * Every grant opened since {@code since}, oldest first, with its reason decrypted: the review
     * of emergency accesses. The caller audits the review (it discloses the reasons). A shredded
     * patient's grant is listed without its reason, by the records' tombstone (so even a node that
     * still caches the key does not decrypt it), and one shredded patient does not break the review.
     */
    public List<Review> review(Instant since) {
        return reviews(since, false);
    }

    /**
     * As {@link #review}, plus every earlier grant still awaiting its review (however old): what a
     * reviewer works through. The caller audits the reading.
     */
    public List<Review> reviewQueue(Instant since) {
        return reviews(since, true);
    }

    /**
     * Records the review of a closed or expired grant by {@code reviewer}, audited in the same
     * transaction (no audit, no review). Refused for the grant's own holder, for an open grant and
     * for a grant already reviewed; nothing is written then.
     */
    public Reviewing recordReview(UUID grantId, String reviewer, ReviewOutcome outcome, AuditContext context) {
        java.util.Objects.requireNonNull(outcome, "outcome");
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        return transactions.execute(status -> {
            record Held(String principal, String patient, boolean open) {}
            Optional<Held> grant = jdbc.sql("select principal, patient, closed_at is null and expires_at > ? "
                            + "from iam.break_glass where grant_id = ? for update")
                    .params(Timestamp.from(now), grantId)
                    .query((rs, n) -> new Held(rs.getString(1), rs.getString(2), rs.getBoolean(3)))
                    .optional();
            if (grant.isEmpty()) {
                return Reviewing.NO_SUCH_GRANT;
            }
            if (grant.get().principal().equalsIgnoreCase(reviewer)) {
                return Reviewing.OWN_GRANT;
            }
            if (grant.get().open()) {
                return Reviewing.STILL_OPEN;
            }
            int written = jdbc.sql("insert into iam.break_glass_review (grant_id, reviewed_by, reviewed_at, outcome) "
                            + "values (?, ?, ?, ?) on conflict (grant_id) do nothing")
                    .params(grantId, reviewer, Timestamp.from(now), outcome.label())
                    .update();
            if (written == 0) {
                return Reviewing.ALREADY_REVIEWED;
            }
            audit.recordInTransaction(List.of(new AuditEvent(UUID.randomUUID(), now, reviewer, AuditAction.ADMIN_CHANGE,
                    "/admin/access-review/break-glass/" + grantId, context, true, grant.get().patient(), null,
                    RequestIds.current(), false, null)));
            return Reviewing.RECORDED;
        });
    }

    private List<Review> reviews(Instant since, boolean withEarlierUnreviewed) {
        record Row(Review review, byte[] sealed) {}
        List<Row> rows = jdbc.sql("select b.grant_id, b.principal, b.patient, b.opened_at, b.expires_at, b.closed_at, "
                        + "b.reason, r.reviewed_by, r.reviewed_at, r.outcome from iam.break_glass b "
                        + "left join iam.break_glass_review r on r.grant_id = b.grant_id "
                        + "where b.opened_at >= ? or (? and r.grant_id is null) order by b.opened_at, b.grant_id")
                .params(Timestamp.from(since), withEarlierUnreviewed)
                .query((rs, n) -> new Row(new Review(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3),
                        rs.getTimestamp(4).toInstant(), rs.getTimestamp(5).toInstant(),
                        rs.getTimestamp(6) == null ? null : rs.getTimestamp(6).toInstant(), null, rs.getString(8),
                        rs.getTimestamp(9) == null ? null : rs.getTimestamp(9).toInstant(),
                        rs.getString(10) == null ? null : ReviewOutcome.ofLabel(rs.getString(10)).orElseThrow(),
                        false), rs.getBytes(7)))
                .list();
        // read after the grants: a patient shredded in between has no keys left, which reasonOf tolerates
        java.util.Set<String> gone = shredded.shreddedAmong(rows.stream().map(row -> row.review().patient()).toList());
        return rows.stream().map(row -> {
            Review review = row.review();
            String reason = null;
            boolean keyMissing = false;
            if (!gone.contains(review.patient())) {
                try {
                    reason = reasonOf(review.grantId(), review.patient(), row.sealed());
                } catch (KeyMissingException missing) {
                    // One patient's key missing (a keyring older than the records, ADR 0049) must not take the
                    // whole review of emergency accesses with it: that grant is shown, its reason marked
                    // unavailable, not shredded. The key's absence is logged where it is found (no ids here).
                    keyMissing = true;
                }
            }
            return new Review(review.grantId(), review.principal(), review.patient(), review.openedAt(), review.expiresAt(),
                    review.closedAt(), reason, review.reviewedBy(), review.reviewedAt(), review.outcome(), keyMissing);
        }).toList();
    }

    private String reasonOf(UUID grantId, String patient, byte[] sealed) {
        try {
            return new String(cipher.decrypt(patient, sealed, associatedData(grantId, patient)), StandardCharsets.UTF_8);
        } catch (KeyDestroyedException shredded) {
            // Shredded after the query read the tombstone: the reason went with the patient's keys. A key
            // missing without a tombstone (KeyMissingException, ADR 0049) is not this: the caller marks it.
            return null;
        }
    }

    public Duration duration() {
        return duration;
    }

    private AuditEvent event(Caller caller, String resource, String patient, AuditContext context, Instant at) {
        return new AuditEvent(UUID.randomUUID(), at, caller.principal(), AuditAction.BREAK_GLASS, resource, context, true,
                patient, "ETREAT", RequestIds.current(), true, null);
    }

    /** Binds the reason's ciphertext to its grant and patient (shared with DEK rotation's re-encryption). */
    private static byte[] associatedData(UUID grantId, String patient) {
        return BreakGlassReasons.associatedData(grantId, patient);
    }

    private static Grant grant(java.sql.ResultSet rs, int n) throws java.sql.SQLException {
        return new Grant(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3), rs.getTimestamp(4).toInstant(),
                rs.getTimestamp(5).toInstant());
    }
}
