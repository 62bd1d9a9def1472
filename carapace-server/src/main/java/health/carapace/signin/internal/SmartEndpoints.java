package health.carapace.signin.internal;

import com.nimbusds.jose.util.JSONObjectUtils;
import health.carapace.access.Caller;
import health.carapace.access.Callers;
import health.carapace.access.ClientAddress;
import health.carapace.access.Interaction;
import health.carapace.access.RecordAccess;
import health.carapace.audit.AuditContext;
import health.carapace.platform.web.OperationOutcomes;
import health.carapace.signin.SmartApps;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * The SMART routes of the API chain:
 * <ul>
 * <li>{@code POST /admin/apps} registers a SMART app ({@code manage:users}, decided by the chain):
 * {@code {"name", "redirect_uris": [..], "scopes": [..], "confidential": bool, "launch_uri"}} →
 * 201 {@code {"client_id", "client_secret"?}}; 400 with an OperationOutcome naming what is wrong.</li>
 * <li>{@code POST /smart/launch} opens an EHR launch for a person with a bearer token (a plain
 * sign-in app's, not a SMART app's): {@code {"client_id", "patient"}} → 201
 * {@code {"launch", "iss", "launch_url"?}}, if the policy lets the person read the patient now.</li>
 * </ul>
 */
@RestController
class SmartEndpoints {

    private static final Set<String> APP_KEYS = Set.of("name", "redirect_uris", "scopes", "confidential", "launch_uri");
    private static final Set<String> LAUNCH_KEYS = Set.of("client_id", "patient");

    private final SmartApps apps;
    private final SmartLaunches launches;
    private final RecordAccess access;
    private final ClientAddress addresses;
    private final Clock clock;
    private final JdbcClient jdbc;
    private final health.carapace.platform.web.PublicBaseUrl baseUrl;

    private final health.carapace.audit.AuditTrail audit;

    SmartEndpoints(SmartApps apps, SmartLaunches launches, RecordAccess access, ClientAddress addresses, Clock clock,
            javax.sql.DataSource dataSource, health.carapace.platform.web.PublicBaseUrl baseUrl,
            health.carapace.audit.AuditTrail audit) {
        this.audit = audit;
        this.apps = apps;
        this.launches = launches;
        this.access = access;
        this.addresses = addresses;
        this.clock = clock;
        this.jdbc = JdbcClient.create(dataSource);
        this.baseUrl = baseUrl;
    }

    @PostMapping("/admin/apps")
    void register(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Caller caller = Callers.of(request).orElseThrow();
        Map<String, Object> body = jsonBody(request, response, APP_KEYS);
        if (body == null) {
            return;
        }
        try {
            SmartApps.Registration registration = apps.create(string(body, "name"), strings(body, "redirect_uris"),
                    strings(body, "scopes"), Boolean.TRUE.equals(body.get("confidential")), string(body, "launch_uri"),
                    caller.principal(), AuditContext.of(request));
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put("client_id", registration.clientId());
            if (registration.clientSecret() != null) {
                answer.put("client_secret", registration.clientSecret());
            }
            json(response, 201, answer);
        } catch (SmartApps.Refused | ClassCastException refused) {
            OperationOutcomes.write(response, 400, IssueType.INVALID, refused instanceof SmartApps.Refused
                    ? refused.getMessage() : "name and launch_uri are strings, redirect_uris and scopes lists of strings");
        }
    }

    @PostMapping("/smart/launch")
    void launch(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Caller caller = Callers.of(request).orElseThrow();
        if (caller.kind() != Caller.Kind.USER || caller.appScope().narrows()) {
            OperationOutcomes.write(response, 403, IssueType.FORBIDDEN,
                    "Access denied: only a person signed in to the record system opens a launch");
            return;
        }
        Map<String, Object> body = jsonBody(request, response, LAUNCH_KEYS);
        if (body == null) {
            return;
        }
        String clientId = body.get("client_id") instanceof String s ? s : null;
        String patientId = body.get("patient") instanceof String s ? s : null;
        UUID patient = uuid(patientId);
        String launchUri = clientId == null || clientId.length() > 100 ? null : jdbc.sql(
                        "select coalesce(launch_uri, '') from iam.login_app where client_id = ? and not disabled"
                                + " and cardinality(scopes) > 0")
                .param(clientId).query(String.class).optional().orElse(null);
        if (patient == null || launchUri == null) {
            OperationOutcomes.write(response, 400, IssueType.INVALID,
                    "client_id must name a registered SMART app and patient a patient id");
            return;
        }
        String compartment = "Patient/" + patient;
        var decision = access.decide(caller, Interaction.READ, "Patient", null, compartment, addresses.resolve(request),
                clock.instant());
        // the app's token could never use the person's emergency access: no launch through it either
        if (!decision.allowed() || decision.breakGlass()) {
            auditLaunch(request, caller, clientId, compartment, "patient-not-readable");
            OperationOutcomes.write(response, 403, IssueType.FORBIDDEN, "Access denied: the patient is not yours to open");
            return;
        }
        if (!auditLaunch(request, caller, clientId, compartment, null)) {
            OperationOutcomes.write(response, 503, IssueType.TRANSIENT, "The launch could not be audited; try again later");
            return;
        }
        String launch = launches.open(clientId, caller.principal(), compartment);
        String fhirBase = baseUrl.value() + "/fhir";
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("launch", launch);
        answer.put("iss", fhirBase);
        if (!launchUri.isEmpty()) {
            answer.put("launch_url", UriComponentsBuilder.fromUriString(launchUri).queryParam("iss", "{iss}")
                    .queryParam("launch", "{launch}").encode().buildAndExpand(fhirBase, launch).toUriString());
        }
        json(response, 201, answer);
    }

    /** Audits a launch opened ({@code reason} null) or refused, naming the app and the patient. False if not durable. */
    private boolean auditLaunch(HttpServletRequest request, Caller caller, String clientId, String patient,
            String reason) {
        try {
            audit.record(List.of(new health.carapace.audit.AuditEvent(UUID.randomUUID(), clock.instant(),
                    caller.principal(), reason == null ? health.carapace.audit.AuditAction.CREATED
                            : health.carapace.audit.AuditAction.DENIED, "/smart/launch/" + clientId,
                    AuditContext.of(request), reason == null, patient, null,
                    health.carapace.platform.logging.RequestIds.current(), false, null, reason)));
            return true;
        } catch (health.carapace.audit.AuditUnavailableException e) {
            return false;
        }
    }

    /** The body as a JSON object with only known keys, or null after answering 415/400. */
    private static Map<String, Object> jsonBody(HttpServletRequest request, HttpServletResponse response, Set<String> keys)
            throws IOException {
        String type = request.getContentType();
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            OperationOutcomes.write(response, 415, IssueType.NOTSUPPORTED, "Send application/json");
            return null;
        }
        Map<String, Object> body;
        try {
            body = JSONObjectUtils.parse(new String(request.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (ParseException | RuntimeException malformed) {
            OperationOutcomes.write(response, 400, IssueType.INVALID, "The body is not a JSON object");
            return null;
        }
        if (!keys.containsAll(body.keySet())) {
            OperationOutcomes.write(response, 400, IssueType.INVALID, "Unknown keys; allowed: " + keys);
            return null;
        }
        return body;
    }

    private static String string(Map<String, Object> body, String key) {
        Object value = body.get(key);
        return value == null ? null : (String) value;
    }

    private static List<String> strings(Map<String, Object> body, String key) {
        Object value = body.get(key);
        if (value == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (Object item : (List<?>) value) {
            out.add((String) item);
        }
        return out;
    }

    private static UUID uuid(String id) {
        if (id == null || id.length() != 36) {
            return null;
        }
        try {
            UUID uuid = UUID.fromString(id);
            return uuid.toString().equals(id.toLowerCase(Locale.ROOT)) ? uuid : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static void json(HttpServletResponse response, int status, Map<String, Object> body) throws IOException {
        byte[] bytes = JSONObjectUtils.toJSONString(body).getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("application/json");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }
}
