package health.carapace.incident.internal;

import health.carapace.access.Caller;
import health.carapace.access.Callers;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.audit.AuditUnavailableException;
import health.carapace.platform.logging.RequestIds;
import health.carapace.platform.web.OperationOutcomes;
import health.carapace.platform.web.RequestFilter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The request-path checks of containment: blocked addresses, then the lockdown. Both fail closed. */
final class ContainmentFilters {

    private static final Logger log = LoggerFactory.getLogger(ContainmentFilters.class);

    private ContainmentFilters() {
    }

    /** Refuses requests from a blocked address range, before authentication. */
    static final class Blocks extends RequestFilter {
        private static final java.util.Set<String> HEALTH = java.util.Set.of("/health", "/health/live", "/health/ready");

        private final ContainmentState state;
        private final AuditTrail audit;

        Blocks(ContainmentState state, AuditTrail audit) {
            this.state = state;
            this.audit = audit;
        }

        /**
         * Health answers UP or DOWN and nothing else, and must answer in time whatever the database
         * does: liveness says only that the process answers, readiness bounds its own probes.
         */
        @Override
        protected boolean shouldNotFilter(HttpServletRequest request) {
            return HEALTH.contains(request.getRequestURI());
        }

        @Override
        protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
                throws ServletException, IOException {
            ContainmentState.Snapshot snapshot;
            try {
                snapshot = state.current();
            } catch (RuntimeException unknown) {
                log.error("The containment state cannot be read; refusing the request");
                OperationOutcomes.write(response, 503, IssueType.TRANSIENT,
                        "The server cannot confirm its containment state; try again shortly");
                return;
            }
            Object address = request.getAttribute(AuditContext.CLIENT_ADDRESS_ATTRIBUTE);
            if (snapshot.blocks(address instanceof String a ? a : request.getRemoteAddr())) {
                audited(audit, request, "anonymous", "address-blocked");
                OperationOutcomes.write(response, 403, IssueType.FORBIDDEN,
                        "Access denied: address-blocked (incident containment)");
                return;
            }
            chain.doFilter(request, response);
        }
    }

    /**
     * During a lockdown, refuses every PHI request (FHIR, telehealth) except those of the named administrators,
     * whose access still passes the whole policy (break-glass included) and is audited. The
     * capability statement stays public; the admin routes stay open so the lockdown can be lifted.
     */
    static final class Lockdown extends RequestFilter {
        private final ContainmentState state;
        private final AuditTrail audit;

        Lockdown(ContainmentState state, AuditTrail audit) {
            this.state = state;
            this.audit = audit;
        }

        @Override
        protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
                throws ServletException, IOException {
            if (!phi(request)) {
                chain.doFilter(request, response);
                return;
            }
            ContainmentState.Snapshot snapshot;
            try {
                snapshot = state.current();
            } catch (RuntimeException unknown) {
                log.error("The containment state cannot be read; refusing the request");
                OperationOutcomes.write(response, 503, IssueType.TRANSIENT,
                        "The server cannot confirm its containment state; try again shortly");
                return;
            }
            String principal = Callers.of(request).map(Caller::principal).orElse(null);
            if (snapshot.lockdown() && (principal == null || !snapshot.allowed().contains(principal))) {
                audited(audit, request, principal == null ? "anonymous" : principal, "lockdown");
                OperationOutcomes.write(response, 503, IssueType.TRANSIENT,
                        "PHI access is locked down (incident containment)");
                return;
            }
            chain.doFilter(request, response);
        }
    }

    /**
     * Whether a request reaches PHI: the FHIR API except its capability statement, and telehealth
     * (joining a visit, the signaling handshake). Decided on the decoded, normalised servlet path
     * the container routes by, never on the raw URI ({@code /%66hir/...} is {@code /fhir/...}).
     */
    static boolean phi(HttpServletRequest request) {
        String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
        boolean fhir = (path.equals("/fhir") || path.startsWith("/fhir/")) && !path.equals("/fhir/metadata");
        boolean telehealth = path.startsWith("/telehealth/visits/") || path.equals("/telehealth/signal");
        return fhir || telehealth;
    }

    private static final java.util.Set<String> AREAS = java.util.Set.of("fhir", "admin", "oauth2", "login",
            "telehealth", "health", ".well-known");

    /** The first path segment if it is one of the server's areas, else {@code *}: never the client's text. */
    private static String area(HttpServletRequest request) {
        String[] segments = request.getRequestURI().split("/", 3);
        return segments.length > 1 && AREAS.contains(segments[1]) ? "/" + segments[1] : "/*";
    }

    private static void audited(AuditTrail audit, HttpServletRequest request, String user, String reason) {
        try {
            audit.record(List.of(new AuditEvent(UUID.randomUUID(), Instant.now(), user, AuditAction.DENIED, area(request),
                    AuditContext.of(request), false, null, null, RequestIds.current(), false, null, reason)));
        } catch (AuditUnavailableException e) {
            log.warn("A request refused by containment could not be audited", e);
        }
    }
}
