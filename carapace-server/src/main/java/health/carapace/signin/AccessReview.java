package health.carapace.signin;

import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * The periodic access review (HIPAA §164.308(a)(4), (a)(3)(ii)(B)): who holds which permissions,
 * which of them went unused, who signs in without MFA, which accounts are dormant, which disabled
 * accounts still hold a live session (must be none), and which roles have no constraint.
 * Read-only. Emergency accesses and their reviews are the other half of the page
 * ({@link AccessReviewSheet}).
 */
public interface AccessReview {

    /**
     * @param kind {@code user} or {@code service-client}
     * @param granted permissions of the principal's defined roles
     * @param unused granted permissions with no matching successful action in the window
     * @param undefinedRoles roles assigned but not in the policy directory (they grant nothing)
     * @param lastSignIn a user's latest sign-in (session opened), null if never; null for a service client
     * @param dormant enabled, older than the window, and unused in it: a user who has not signed in,
     *     a service client with no successful audited action
     * @param usageReadAt when the audit trail was read for this principal's usage (what {@code unused}
     *     and a service client's {@code dormant} come from): the report's time, or for
     *     {@link #recentReport} up to two minutes earlier (ADR 0050)
     */
    record Principal(String name, String kind, Set<String> roles, Set<String> granted, Set<String> unused,
            Set<String> undefinedRoles, boolean disabled, boolean mfaEnrolled, Instant lastSignIn, boolean dormant,
            Instant usageReadAt) {}

    /**
     * @param usersWithoutMfa enabled and disabled users with no TOTP enrolled
     * @param dormant names of the dormant principals (see {@link Principal#dormant})
     * @param disabledWithLiveSessions disabled users who still hold an unrevoked, unexpired
     *     session (and so a refresh token); must be empty
     */
    record Report(Instant generatedAt, int days, List<Principal> principals, List<String> usersWithoutMfa,
            List<String> dormant, List<String> disabledWithLiveSessions, List<String> unconstrainedRoles) {

        /** True when nothing that must never happen was found. */
        public boolean clean() {
            return disabledWithLiveSessions.isEmpty();
        }

        /** The oldest of the principals' usage readings ({@link #generatedAt} if there is none). */
        public Instant usageReadAt() {
            return principals.stream().map(Principal::usageReadAt).min(Instant::compareTo).orElse(generatedAt);
        }
    }

    /** The review as the directory and the audit trail hold it at {@code now}: every usage read now. */
    Report report(int days, Instant now);

    /**
     * As {@link #report}, except that each principal's usage (the audit trail's part, the
     * expensive one) may be a reading made up to 30 seconds earlier, read again in the background
     * after that, and never older than two minutes (ADR 0050); each principal says when its usage
     * was read. Roles, permissions, sign-ins, sessions and care relationships are read live.
     */
    Report recentReport(int days, Instant now);
}
