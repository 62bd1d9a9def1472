package health.carapace.signin;

import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * The periodic access review (HIPAA §164.308(a)(4), (a)(3)(ii)(B)): who holds which permissions,
 * which of them went unused, who signs in without MFA, which disabled accounts still hold a live
 * session (must be none), and which roles have no constraint. Read-only.
 */
public interface AccessReview {

    /**
     * @param kind {@code user} or {@code service-client}
     * @param granted permissions of the principal's defined roles
     * @param unused granted permissions with no matching successful action in the window
     * @param undefinedRoles roles assigned but not in the policy directory (they grant nothing)
     */
    record Principal(String name, String kind, Set<String> roles, Set<String> granted, Set<String> unused,
            Set<String> undefinedRoles, boolean disabled, boolean mfaEnrolled) {}

    /**
     * @param disabledWithLiveSessions disabled users who still hold an unrevoked, unexpired
     *     session (and so a refresh token); must be empty
     */
    record Report(Instant generatedAt, int days, List<Principal> principals, List<String> usersWithoutMfa,
            List<String> disabledWithLiveSessions, List<String> unconstrainedRoles) {

        /** True when nothing that must never happen was found. */
        public boolean clean() {
            return disabledWithLiveSessions.isEmpty();
        }
    }

    Report report(int days, Instant now);
}
