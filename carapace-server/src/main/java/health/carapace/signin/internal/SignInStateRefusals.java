package health.carapace.signin.internal;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditUnavailableException;
import health.carapace.crypto.StateSeal;
import health.carapace.platform.logging.RequestIds;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.slf4j.LoggerFactory;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * Audits sealed sign-in state that was refused where it was presented (a cookie, a stored session
 * value): {@code denied}, by nobody yet, with the path only (never the value, never the query) and
 * the reason. The refusal itself never waits for the audit: there is nothing to protect by
 * failing, the state is not used either way.
 */
final class SignInStateRefusals {

    /** Sealed under a key id this installation does not hold (forged, or its key was destroyed after it expired). */
    static final String UNKNOWN_KEY = "sign-in-state-key-unknown";
    /** The kept authorization request's cookie was altered or forged. */
    static final String REQUEST_FORGED = "sign-in-request-forged";
    /** The browser session's cookie was altered or forged. */
    static final String COOKIE_FORGED = "sign-in-cookie-forged";

    private final AuditTrail audit;

    SignInStateRefusals(AuditTrail audit) {
        this.audit = audit;
    }

    /** The reason to record: an unknown key id is told apart from everything else that does not open. */
    static String reason(StateSeal.Refusal refusal, String otherwise) {
        return refusal == StateSeal.Refusal.UNKNOWN_KEY ? UNKNOWN_KEY : otherwise;
    }

    /** Records the refusal, for the request being served (if any). */
    void refused(String reason) {
        HttpServletRequest request = RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes servlet
                ? servlet.getRequest() : null;
        refused(request, reason);
    }

    void refused(HttpServletRequest request, String reason) {
        try {
            audit.record(List.of(new AuditEvent(UUID.randomUUID(), Instant.now(), "anonymous", AuditAction.DENIED,
                    request == null ? "/login" : DeniedRequests.pathOnly(request),
                    request == null ? AuditContext.none() : AuditContext.of(request), false, null, null,
                    RequestIds.current(), false, null, reason)));
        } catch (AuditUnavailableException e) {
            LoggerFactory.getLogger(SignInStateRefusals.class).warn("A refused sign-in state could not be audited", e);
        }
    }
}
