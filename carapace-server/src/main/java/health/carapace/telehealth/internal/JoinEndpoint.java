package health.carapace.telehealth.internal;

import health.carapace.access.AccessDecision;
import health.carapace.access.AppScope;
import health.carapace.access.Caller;
import health.carapace.access.Callers;
import health.carapace.access.ClientAddress;
import health.carapace.access.Interaction;
import health.carapace.access.RecordAccess;
import health.carapace.audit.AuditContext;
import health.carapace.platform.logging.RequestIds;
import health.carapace.platform.web.OperationOutcomes;
import health.carapace.platform.web.PublicBaseUrl;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Optional;
import java.util.UUID;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /telehealth/visits/{appointmentId}/join} with the clinician's bearer token: a
 * one-time ticket for the visit page ({@link JoinTickets}), as {@code {"url": ..., "expires": ...}}.
 * Only a person acting as one of the Appointment's Practitioner participants, whom the access
 * policy lets read the Appointment now (care relationship or break-glass, role window and address
 * range), gets one; every refusal is a 4xx OperationOutcome and audited.
 */
@RestController
class JoinEndpoint {

    static String path(UUID appointmentId) {
        return "/telehealth/visits/" + appointmentId + "/join";
    }

    private final Visits visits;
    private final JoinTickets tickets;
    private final RecordAccess access;
    private final ClientAddress addresses;
    private final VisitAudit audit;
    private final PublicBaseUrl baseUrl;
    private final Clock clock;

    JoinEndpoint(Visits visits, JoinTickets tickets, RecordAccess access, ClientAddress addresses, VisitAudit audit,
            PublicBaseUrl baseUrl, Clock clock) {
        this.visits = visits;
        this.tickets = tickets;
        this.access = access;
        this.addresses = addresses;
        this.audit = audit;
        this.baseUrl = baseUrl;
        this.clock = clock;
    }

    @PostMapping("/telehealth/visits/{appointment}/join")
    void join(@PathVariable String appointment, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        Optional<UUID> id = parse(appointment);
        Optional<Visits.Visit> visit = id.flatMap(visits::find);
        Caller caller = Callers.of(request).orElse(null);
        AuditContext context = AuditContext.of(request);
        if (caller == null) {
            audit.denied("anonymous", id.orElse(null), null, "no-caller", context, RequestIds.current());
            OperationOutcomes.write(response, 403, IssueType.FORBIDDEN, "Access denied: no-caller");
            return;
        }
        // A SMART app's scopes cannot name joining a visit (it hands out a clinician's ticket):
        // refused to every app, before anything about the visit is told.
        if (caller.appScope().narrows()) {
            audit.denied(caller.principal(), id.orElse(null), null, AppScope.OUTSIDE_APP_SCOPE, context,
                    RequestIds.current());
            OperationOutcomes.write(response, 403, IssueType.FORBIDDEN, "Access denied: " + AppScope.OUTSIDE_APP_SCOPE);
            return;
        }
        if (visit.isEmpty()) {
            OperationOutcomes.write(response, 404, IssueType.NOTFOUND, "No visit was started for this Appointment");
            return;
        }
        Visits.Visit v = visit.get();
        // decided before anything else about the visit is told: a stranger learns only 403
        AccessDecision decision = access.decide(caller, Interaction.READ, "Appointment", null, v.patient(),
                addresses.resolve(request), clock.instant());
        if (!decision.allowed()) {
            refuse(caller, v, decision.reason(), context, response);
            return;
        }
        String practitioner = caller.practitionerId() == null ? null : "Practitioner/" + caller.practitionerId();
        if (caller.kind() != Caller.Kind.USER || practitioner == null || !v.clinicians().contains(practitioner)) {
            refuse(caller, v, "not-a-visit-participant", context, response);
            return;
        }
        if (v.ended()) {
            OperationOutcomes.write(response, 409, IssueType.CONFLICT, "This visit has ended");
            return;
        }
        String ticket = tickets.issue(v.appointmentId(), caller.principal(), practitioner, v.patient());
        response.setStatus(200);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        String body = "{\"url\":\"" + baseUrl.value() + VisitPage.PAGE + "#ticket=" + ticket + "\",\"expires\":\""
                + tickets.expiry() + "\"}";
        response.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
    }

    private void refuse(Caller caller, Visits.Visit visit, String reason, AuditContext context,
            HttpServletResponse response) throws IOException {
        audit.denied(caller.principal(), visit.appointmentId(), visit.patient(), reason, context, RequestIds.current());
        OperationOutcomes.write(response, 403, IssueType.FORBIDDEN, "Access denied: " + reason);
    }

    private static Optional<UUID> parse(String value) {
        if (value == null || !value.matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")) {
            return Optional.empty();
        }
        return Optional.of(UUID.fromString(value));
    }
}
