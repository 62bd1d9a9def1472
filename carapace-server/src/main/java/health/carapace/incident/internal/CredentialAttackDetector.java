package health.carapace.incident.internal;

import health.carapace.audit.AuditFeed.SealedEvent;
import health.carapace.incident.Severity;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code credential-attack}: a burst of failed sign-ins, wrong second factors, lockouts, failed
 * client-credential token requests, or requests with a forged, expired or revoked bearer token
 * (audited as a denial of "anonymous"), from one address or against one account.
 */
final class CredentialAttackDetector implements Detector {

    static final String CODE = "credential-attack";
    private static final Set<String> FAILURES = Set.of("login_failed", "mfa_failed", "lockout");

    private final int threshold;
    private final SlidingCounts byAddress;
    private final SlidingCounts byAccount;

    CredentialAttackDetector(IncidentSettings settings) {
        this.threshold = settings.credentialCount();
        this.byAddress = new SlidingCounts(settings.credentialWindow());
        this.byAccount = new SlidingCounts(settings.credentialWindow());
    }

    /** Subjects already detected in this batch: one detection each, not one per event past the threshold. */
    private final java.util.Set<String> detectedThisBatch = new HashSet<>();

    @Override
    public void endOfBatch(List<Detection> found) {
        detectedThisBatch.clear();
    }

    @Override
    public String code() {
        return CODE;
    }

    @Override
    public void inspect(SealedEvent sealed, List<Detection> found) {
        var e = sealed.event();
        boolean badToken = "denied".equals(e.action()) && "anonymous".equals(e.user());
        if (!(FAILURES.contains(e.action()) || badToken) || e.success() || AuditedAccess.containmentRefusal(e)) {
            return;
        }
        if (AuditedAccess.knownPrincipal(e.user()) && byAccount.add(e.user(), e.timestamp()) >= threshold
                && detectedThisBatch.add("account:" + e.user())) {
            found.add(Detection.of(CODE, Severity.HIGH, sealed, "account"));
        }
        if (e.context().ip() != null && byAddress.add(e.context().ip(), e.timestamp()) >= threshold
                && detectedThisBatch.add("address:" + e.context().ip())) {
            found.add(Detection.byAddress(CODE, Severity.HIGH, sealed, badToken ? "bad-tokens" : "address"));
        }
    }
}
