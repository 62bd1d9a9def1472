package health.carapace.signin;

import health.carapace.access.BreakGlass;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.platform.logging.RequestIds;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.springframework.stereotype.Service;

/**
 * The access review as one reviewer reads and acts on it: the accounts ({@link AccessReview}:
 * granted versus used permissions, accounts without MFA, dormant accounts) and the emergency
 * accesses with their reviews ({@link BreakGlass}). The JSON admin route
 * ({@code /admin/access-review}) and the console's page both call this, so a reading and a
 * review are audited the same way wherever they are made. The caller checks the permission
 * ({@code view:audit} to read; with {@code manage:incidents} to record a review).
 */
@Service
public class AccessReviewSheet {

    /** The window when the reviewer names none: a quarter, as the stored review's. */
    public static final int DEFAULT_DAYS = 90;
    /** The longest window (about ten years), as {@link AccessReview#report}. */
    public static final int MAX_DAYS = 3660;
    /** Where readings and reviews are recorded in the audit trail. */
    public static final String RESOURCE = "/admin/access-review";

    /**
     * @param accounts the accounts' review over the window
     * @param emergencyAccesses grants opened in the window, and every earlier one still awaiting
     *     its review, oldest first; reasons decrypted (free text that may hold PHI)
     */
    public record Sheet(AccessReview.Report accounts, List<BreakGlass.Review> emergencyAccesses) {

        /** The grants nobody has reviewed yet. */
        public List<BreakGlass.Review> awaitingReview() {
            return emergencyAccesses.stream().filter(BreakGlass.Review::awaitingReview).toList();
        }
    }

    private final AccessReview review;
    private final BreakGlass breakGlass;
    private final AuditTrail audit;
    private final Clock clock;

    AccessReviewSheet(AccessReview review, BreakGlass breakGlass, AuditTrail audit, Clock clock) {
        this.review = review;
        this.breakGlass = breakGlass;
        this.audit = audit;
        this.clock = clock;
    }

    /**
     * The sheet over the last {@code days} days, each principal's usage figures as
     * {@link AccessReview#recentReport} reuses them (read at most two minutes before). The reading
     * is audited as {@code exported} before anything is read, and each grant's decrypted reason as
     * {@code exported} with its patient before the sheet is returned: no audit, no sheet.
     *
     * @throws IllegalArgumentException if {@code days} is not between 1 and {@link #MAX_DAYS}
     * @throws health.carapace.audit.AuditUnavailableException if the reading could not be recorded
     */
    public Sheet read(String reviewer, int days, AuditContext context) {
        if (days < 1 || days > MAX_DAYS) {
            throw new IllegalArgumentException("days must be between 1 and " + MAX_DAYS);
        }
        Instant now = clock.instant();
        audit.record(List.of(AuditEvent.now(reviewer, AuditAction.EXPORTED, RESOURCE, context, true, null, null,
                RequestIds.current())));
        List<BreakGlass.Review> grants = breakGlass.reviewQueue(now.minus(Duration.ofDays(days)));
        // Each grant's reason is free text about one patient: its reading is audited with that patient,
        // one event per grant shown, before the sheet leaves (so it is in the patient's trail and
        // accounting of disclosures; review of the access review, finding 4). No audit, no sheet.
        List<AuditEvent> shown = grants.stream().filter(grant -> grant.reason() != null)
                .map(grant -> AuditEvent.now(reviewer, AuditAction.EXPORTED, RESOURCE + "/break-glass/" + grant.grantId(),
                        context, true, grant.patient(), null, RequestIds.current()))
                .toList();
        audit.record(shown);
        return new Sheet(review.recentReport(days, now), grants);
    }

    /**
     * Records {@code reviewer}'s review of one emergency access (audited with it, in one
     * transaction); refused, with nothing written, for the reviewer's own grant, an open grant or
     * one already reviewed. Each of these refusals is audited as {@code denied} with its reason.
     */
    public BreakGlass.Reviewing reviewEmergencyAccess(UUID grantId, String reviewer, BreakGlass.ReviewOutcome outcome,
            AuditContext context) {
        BreakGlass.Reviewing result = breakGlass.recordReview(grantId, reviewer, outcome, context);
        // Every refusal of a grant that exists is audited with its reason: one's own grant, a grant
        // still open, and an attempt to overwrite a review already recorded (which would otherwise
        // leave no trace; review of the access review, finding 3).
        String refusal = switch (result) {
            case OWN_GRANT -> "own-break-glass-grant";
            case STILL_OPEN -> "grant-open";
            case ALREADY_REVIEWED -> "already-reviewed";
            case RECORDED, NO_SUCH_GRANT -> null;
        };
        if (refusal != null) {
            audit.record(List.of(new AuditEvent(UUID.randomUUID(), clock.instant(), reviewer, AuditAction.DENIED,
                    RESOURCE + "/break-glass/" + grantId, context, false, null, null, RequestIds.current(), false, null,
                    refusal)));
        }
        return result;
    }
}
