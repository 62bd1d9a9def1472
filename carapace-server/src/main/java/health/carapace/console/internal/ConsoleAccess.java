package health.carapace.console.internal;

import health.carapace.access.AccessPolicy;
import health.carapace.access.Caller;
import health.carapace.access.Callers;
import health.carapace.access.ClientAddress;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditUnavailableException;
import health.carapace.platform.logging.RequestIds;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console's permission checks: the access policy's answer for the signed-in person, from the
 * browser's address, now (roles, time windows, IP ranges), on every request, as the admin API's
 * routes decide. A refusal is audited as {@code denied}, as the API audits its own.
 */
final class ConsoleAccess {

    private static final Logger log = LoggerFactory.getLogger(ConsoleAccess.class);

    private final AccessPolicy policy;
    private final ClientAddress clientAddress;
    private final AuditTrail audit;
    private final Clock clock;

    ConsoleAccess(AccessPolicy policy, ClientAddress clientAddress, AuditTrail audit, Clock clock) {
        this.policy = policy;
        this.clientAddress = clientAddress;
        this.audit = audit;
        this.clock = clock;
    }

    /** Who made a request, for a refusal's audit event: the signed-in person, or {@code anonymous}. */
    static String principalOf(HttpServletRequest request) {
        return Callers.of(request).map(Caller::principal).orElse("anonymous");
    }

    /** The signed-in person (the console's filter resolved them before any page runs). */
    static Caller caller(HttpServletRequest request) {
        return Callers.of(request).orElseThrow(() -> new ConsoleRefusal(401, "Sign in to use the console."));
    }

    boolean grants(HttpServletRequest request, String permission) {
        return Callers.of(request)
                .map(caller -> policy.grants(caller, permission, clientAddress.resolve(request), clock.instant()))
                .orElse(false);
    }

    /**
     * Requires a permission for a page or an action; refuses (403, audited with the console path
     * {@code resource}, which the console builds from its own route, never from the request's text).
     */
    Caller require(HttpServletRequest request, String permission, String resource) {
        if (!grants(request, permission)) {
            throw refused(request, resource);
        }
        return caller(request);
    }

    /** Requires at least one of the permissions (the dashboard shows a card per permission). */
    Caller requireAny(HttpServletRequest request, List<String> permissions, String resource) {
        if (permissions.stream().noneMatch(permission -> grants(request, permission))) {
            throw refused(request, resource);
        }
        return caller(request);
    }

    ConsoleRefusal refused(HttpServletRequest request, String resource) {
        denied(request, Callers.of(request).map(Caller::principal).orElse("anonymous"), resource);
        return new ConsoleRefusal(403, "You do not have the permission this page or action needs.");
    }

    /** Audits a refused console request; a refusal is answered even when the trail is down (it carries nothing). */
    void denied(HttpServletRequest request, String principal, String resource) {
        try {
            audit.record(List.of(AuditEvent.now(principal, AuditAction.DENIED, resource, AuditContext.of(request), false,
                    null, null, RequestIds.current())));
        } catch (AuditUnavailableException e) {
            log.warn("A refused console request could not be audited", e);
        }
    }
}
