package health.carapace.signin.internal;

import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditUnavailableException;
import health.carapace.platform.logging.RequestIds;
import java.util.List;
import java.util.UUID;
import org.slf4j.LoggerFactory;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * Ends a sign-in session and audits it: a {@code logout} when one of its tokens was revoked at
 * the revocation endpoint, a {@code session_revoked} when it ended for a replayed refresh token
 * or a reused code. A session that had already ended is left alone (and not audited again).
 */
final class SessionEndings {

    private final Sessions sessions;
    private final AuditTrail audit;

    SessionEndings(Sessions sessions, AuditTrail audit) {
        this.sessions = sessions;
        this.audit = audit;
    }

    void end(UUID sessionId, String userName, StoredAuthorizations.Ending why) {
        if (sessions.revoke(sessionId).isEmpty()) {
            return;
        }
        var request = RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes servlet
                ? servlet.getRequest() : null;
        boolean logout = why == StoredAuthorizations.Ending.REVOKED && request != null
                && request.getRequestURI().endsWith("/oauth2/revoke");
        try {
            audit.record(List.of(AuditEvent.now(userName, logout ? AuditAction.LOGOUT : AuditAction.SESSION_REVOKED,
                    request == null ? "/oauth2" : DeniedRequests.pathOnly(request),
                    request == null ? AuditContext.none() : AuditContext.of(request), logout, null, null,
                    RequestIds.current())));
        } catch (AuditUnavailableException e) {
            LoggerFactory.getLogger(SessionEndings.class).warn("An ended session could not be audited", e);
        }
    }
}
