package health.carapace.incident.internal;

import health.carapace.audit.AuditIntegrity;
import health.carapace.incident.Severity;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code audit-integrity}, always critical: the last full verification failed ({@code audit verify}
 * or the server's periodic run), a tree head signed more than {@code witness-grace} ago has not
 * reached the witness directory, or an event has waited more than {@code sealer-stall} for the
 * sealer. It watches the audit module's state, not the events (a stalled sealer produces none), so
 * the detector runner asks it at {@code check-interval} on the reading node, events or not.
 */
final class AuditIntegrityWatch {

    static final String CODE = "audit-integrity";
    /** The subject of its incidents: the audit trail, not a person. */
    static final String SUBJECT = "carapace:audit";

    private final AuditIntegrity audit;
    private final Duration sealerStall;
    private final Duration witnessGrace;

    AuditIntegrityWatch(AuditIntegrity audit, Duration sealerStall, Duration witnessGrace) {
        this.audit = audit;
        this.sealerStall = sealerStall;
        this.witnessGrace = witnessGrace;
    }

    /** What is wrong now, one detection per problem (detail: which). */
    List<Detection> check(Instant now) {
        AuditIntegrity.Status status = audit.status(now.minus(witnessGrace));
        List<Detection> found = new ArrayList<>();
        if (!status.lastVerificationOk()) {
            found.add(detection(status.lastVerificationAt(), "verification-failed"));
        }
        if (status.oldestUnsealed() != null && status.oldestUnsealed().plus(sealerStall).isBefore(now)) {
            found.add(detection(now, "sealer-stalled"));
        }
        if (status.witnessMissing()) {
            found.add(detection(now, "witness-missing"));
        }
        return found;
    }

    private static Detection detection(Instant at, String detail) {
        return new Detection(CODE, Severity.CRITICAL, SUBJECT, null, null, null, -1, at, detail);
    }
}
