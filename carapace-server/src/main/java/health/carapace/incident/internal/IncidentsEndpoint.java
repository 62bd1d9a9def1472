package health.carapace.incident.internal;

import health.carapace.access.Caller;
import health.carapace.access.Callers;
import health.carapace.incident.Breach;
import health.carapace.incident.Incident;
import health.carapace.incident.IncidentState;
import health.carapace.incident.Incidents;
import health.carapace.incident.RiskAssessment;
import health.carapace.incident.Severity;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /admin/incidents}: the list with filters and one incident ({@code view:incidents}); the
 * transitions, the risk assessment and the breach determination ({@code manage:incidents}). The
 * permissions are decided by the security chain on every request (roles, time window, address).
 */
@RestController
class IncidentsEndpoint {

    private static final Set<String> FILTERS = Set.of("state", "severity", "detector", "principal", "since", "drill",
            "limit");
    private static final Pattern CODE = Pattern.compile("[a-z][a-z-]{1,40}");
    private static final Pattern PRINCIPAL = Pattern.compile("[A-Za-z0-9:._@-]{1,100}");

    private final Incidents incidents;
    private final health.carapace.incident.Containment containment;

    IncidentsEndpoint(Incidents incidents, health.carapace.incident.Containment containment) {
        this.incidents = incidents;
        this.containment = containment;
    }

    @PostMapping("/admin/incidents/{id}/containment")
    ResponseEntity<String> contain(@PathVariable("id") String id, HttpServletRequest request) throws IOException {
        UUID incident = id(id);
        if (incident == null) {
            return notFound();
        }
        health.carapace.incident.Containment.Actions actions;
        try {
            actions = AdminJson.read(request, health.carapace.incident.Containment.Actions.class, "Containment actions");
        } catch (AdminJson.BadBody bad) {
            return AdminJson.outcome(bad);
        }
        try {
            health.carapace.incident.Containment.Result result = containment.contain(incident, actions, actor(request));
            Map<String, Object> body = new java.util.LinkedHashMap<>();
            body.put("incident", result.incident());
            body.put("done", result.done());
            if (result.detectionToContainment() != null) { // null: nothing isolated yet
                body.put("detectionToContainmentSeconds", result.detectionToContainment().toMillis() / 1000.0);
            }
            return AdminJson.ok(HttpStatus.OK, body);
        } catch (Incidents.Refused refused) {
            return refusal(refused);
        }
    }

    /** Body of {@code POST .../close}. */
    record Closing(String state, String resolution) {}

    @GetMapping("/admin/incidents")
    ResponseEntity<String> list(HttpServletRequest request) {
        for (String name : request.getParameterMap().keySet()) {
            if (!FILTERS.contains(name)) {
                return AdminJson.outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID,
                        "Unknown filter; the filters are " + FILTERS.stream().sorted().toList());
            }
        }
        try {
            Incidents.Filter filter = new Incidents.Filter(
                    param(request, "state", IncidentState::of),
                    param(request, "severity", Severity::of),
                    param(request, "detector", v -> require(CODE, v)),
                    param(request, "principal", v -> require(PRINCIPAL, v)),
                    param(request, "since", Instant::parse),
                    param(request, "drill", v -> switch (v) {
                        case "true" -> Boolean.TRUE;
                        case "false" -> Boolean.FALSE;
                        default -> throw new IllegalArgumentException();
                    }),
                    java.util.Optional.ofNullable(param(request, "limit", Integer::valueOf)).orElse(100));
            if (filter.limit() < 1 || filter.limit() > 1000) {
                throw new IllegalArgumentException();
            }
            return AdminJson.ok(HttpStatus.OK, Map.of("incidents", incidents.list(filter)));
        } catch (IllegalArgumentException | DateTimeParseException malformed) {
            return AdminJson.outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID,
                    "A filter value is malformed: state, severity and detector are codes, since an ISO-8601 instant, "
                            + "drill true or false, limit 1 to 1000");
        }
    }

    @GetMapping("/admin/incidents/{id}")
    ResponseEntity<String> show(@PathVariable("id") String id) {
        UUID incident = id(id);
        if (incident == null) {
            return notFound();
        }
        return incidents.find(incident).map(found -> AdminJson.ok(HttpStatus.OK, found)).orElseGet(IncidentsEndpoint::notFound);
    }

    @PostMapping("/admin/incidents/{id}/acknowledge")
    ResponseEntity<String> acknowledge(@PathVariable("id") String id, HttpServletRequest request) {
        return change(id, request, incident -> incidents.acknowledge(incident, actor(request)));
    }

    @PostMapping("/admin/incidents/{id}/close")
    ResponseEntity<String> close(@PathVariable("id") String id, HttpServletRequest request) throws IOException {
        Closing closing;
        try {
            closing = AdminJson.read(request, Closing.class, "A closing");
        } catch (AdminJson.BadBody bad) {
            return AdminJson.outcome(bad);
        }
        IncidentState target;
        try {
            target = IncidentState.of(closing.state() == null ? "closed" : closing.state());
        } catch (IllegalArgumentException e) {
            return AdminJson.outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID, "state is resolved or closed");
        }
        return change(id, request, incident -> incidents.close(incident, target, closing.resolution(), actor(request)));
    }

    @PutMapping("/admin/incidents/{id}/risk-assessment")
    ResponseEntity<String> assess(@PathVariable("id") String id, HttpServletRequest request) throws IOException {
        RiskAssessment assessment;
        try {
            assessment = AdminJson.read(request, RiskAssessment.class, "A risk assessment");
        } catch (AdminJson.BadBody bad) {
            return AdminJson.outcome(bad);
        }
        return change(id, request, incident -> incidents.assessRisk(incident, assessment, actor(request)));
    }

    @PutMapping("/admin/incidents/{id}/breach")
    ResponseEntity<String> breach(@PathVariable("id") String id, HttpServletRequest request) throws IOException {
        Breach breach;
        try {
            breach = AdminJson.read(request, Breach.class, "A breach determination");
        } catch (AdminJson.BadBody bad) {
            return AdminJson.outcome(bad);
        }
        return change(id, request, incident -> incidents.recordBreach(incident, breach, actor(request)));
    }

    private ResponseEntity<String> change(String id, HttpServletRequest request, Function<UUID, Incident> action) {
        UUID incident = id(id);
        if (incident == null) {
            return notFound();
        }
        try {
            return AdminJson.ok(HttpStatus.OK, action.apply(incident));
        } catch (Incidents.Refused refused) {
            return refusal(refused);
        }
    }

    private static ResponseEntity<String> refusal(Incidents.Refused refused) {
        {
            return switch (refused.reason()) {
                case NOT_FOUND -> notFound();
                case CONFLICT -> AdminJson.outcome(HttpStatus.CONFLICT, IssueType.CONFLICT, refused.getMessage());
                case INVALID -> AdminJson.outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID, refused.getMessage());
            };
        }
    }

    static String actor(HttpServletRequest request) {
        return Callers.of(request).map(Caller::principal).orElseThrow();
    }

    private static <T> T param(HttpServletRequest request, String name, Function<String, T> parse) {
        String[] values = request.getParameterValues(name);
        if (values == null) {
            return null;
        }
        if (values.length != 1 || values[0].isEmpty() || values[0].length() > 100) {
            throw new IllegalArgumentException();
        }
        return parse.apply(values[0]);
    }

    private static String require(Pattern pattern, String value) {
        if (!pattern.matcher(value).matches()) {
            throw new IllegalArgumentException();
        }
        return value;
    }

    static UUID id(String text) {
        try {
            UUID uuid = UUID.fromString(text);
            return uuid.toString().equals(text) ? uuid : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static ResponseEntity<String> notFound() {
        return AdminJson.outcome(HttpStatus.NOT_FOUND, IssueType.NOTFOUND, "No incident with that id");
    }
}
