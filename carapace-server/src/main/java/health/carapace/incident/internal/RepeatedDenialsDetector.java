package health.carapace.incident.internal;

import health.carapace.audit.AuditFeed.SealedEvent;
import health.carapace.incident.Severity;
import java.util.HashSet;
import java.util.List;

/**
 * {@code repeated-denials}: at least N refusals within M minutes by one principal, or from one
 * address (probing for what a role may reach, or a script walking ids).
 */
final class RepeatedDenialsDetector implements Detector {

    static final String CODE = "repeated-denials";

    private final int threshold;
    private final SlidingCounts byPrincipal;
    private final SlidingCounts byAddress;

    RepeatedDenialsDetector(IncidentSettings settings) {
        this.threshold = settings.denialsCount();
        this.byPrincipal = new SlidingCounts(settings.denialsWindow());
        this.byAddress = new SlidingCounts(settings.denialsWindow());
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
        if (!"denied".equals(e.action()) || AuditedAccess.containmentRefusal(e)) {
            return;
        }
        if (AuditedAccess.knownPrincipal(e.user()) && byPrincipal.add(e.user(), e.timestamp()) >= threshold) {
            if (detectedThisBatch.add("principal:" + e.user())) {
                found.add(Detection.of(CODE, Severity.MEDIUM, sealed, "principal"));
            }
        } else if (e.context().ip() != null && byAddress.add(e.context().ip(), e.timestamp()) >= threshold) {
            if (detectedThisBatch.add("address:" + e.context().ip())) {
                found.add(Detection.byAddress(CODE, Severity.MEDIUM, sealed, "address"));
            }
        }
    }
}
