package health.carapace.console;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.access.Permissions;
import health.carapace.audit.AuditQueries;
import health.carapace.compliance.ComplianceReports;
import health.carapace.disposal.Shredding;
import health.carapace.incident.Evidence;
import health.carapace.incident.Incident;
import health.carapace.testing.TestPolicy;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

/**
 * Every console route, as Spring MVC's handler mappings hold it (not a list written by hand, so a
 * route added later is tried too), asked for by signed-in people who lack the permission it
 * needs: the console's 403 error page, nothing changed, and the refusal audited as {@code denied}
 * naming the path, by the person, as the console app. Tried with real ids (an open incident, a
 * pending shredding request, an account, a stored report, an event) and the fields that would
 * make each action happen, so that a route whose check were removed would act and fail here; and
 * with a malformed id, which is refused (and audited) just the same, the permission being decided
 * before the id is read.
 *
 * <p>Two kinds of visitor: one holding no console permission at all (every route but the sign-in's
 * own ends must refuse them), and, for each route whose permission is known below, one holding
 * every console permission except that one (so a route checking the wrong permission fails too).
 */
class ConsolePermissionTest extends ConsoleTesting {

    /** Routes of the sign-in itself: reached without a session, or by anyone signed in (signing out). */
    static final Set<String> OPEN = Set.of("GET /console/callback", "GET /console/signed-out", "POST /console/sign-out");

    /** One role per console permission (test policy), from which the "all but one" visitors are made. */
    static final Map<String, String> ROLE_OF = Map.of(
            Permissions.VIEW_INCIDENTS, TestPolicy.INCIDENT_VIEWER,
            Permissions.MANAGE_INCIDENTS, TestPolicy.INCIDENT_RESPONDER,
            Permissions.VIEW_AUDIT, TestPolicy.AUDITOR,
            Permissions.VIEW_COMPLIANCE, TestPolicy.COMPLIANCE,
            Permissions.MANAGE_KEYS, TestPolicy.KEY_ADMIN,
            Permissions.VIEW_METRICS, TestPolicy.METRICS,
            Permissions.MANAGE_USERS, TestPolicy.USER_MANAGER);

    /**
     * The permission each route needs, as docs/CONSOLE.md states it. A route not listed (the
     * dashboard needs any one of several; a route added later) is still tried by the visitor
     * without any console permission.
     */
    static final Map<String, String> NEEDED = Map.ofEntries(
            Map.entry("GET /console/incidents", Permissions.VIEW_INCIDENTS),
            Map.entry("GET /console/incidents/{id}", Permissions.VIEW_INCIDENTS),
            Map.entry("GET /console/drills", Permissions.VIEW_INCIDENTS),
            Map.entry("POST /console/incidents/{id}/acknowledge", Permissions.MANAGE_INCIDENTS),
            Map.entry("POST /console/incidents/{id}/contain", Permissions.MANAGE_INCIDENTS),
            Map.entry("POST /console/incidents/{id}/risk", Permissions.MANAGE_INCIDENTS),
            Map.entry("POST /console/incidents/{id}/breach", Permissions.MANAGE_INCIDENTS),
            Map.entry("POST /console/incidents/{id}/close", Permissions.MANAGE_INCIDENTS),
            Map.entry("POST /console/incidents/{id}/evidence", Permissions.MANAGE_INCIDENTS),
            Map.entry("GET /console/audit", Permissions.VIEW_AUDIT),
            Map.entry("GET /console/audit/disclosures", Permissions.VIEW_AUDIT),
            Map.entry("GET /console/audit/disclosures.csv", Permissions.VIEW_AUDIT),
            Map.entry("GET /console/audit/events/{id}/proof", Permissions.VIEW_AUDIT),
            Map.entry("GET /console/compliance", Permissions.VIEW_COMPLIANCE),
            Map.entry("POST /console/compliance/evaluate", Permissions.VIEW_COMPLIANCE),
            Map.entry("GET /console/compliance/reports/{id}", Permissions.VIEW_COMPLIANCE),
            Map.entry("GET /console/compliance/public-key", Permissions.VIEW_COMPLIANCE),
            Map.entry("GET /console/keys", Permissions.MANAGE_KEYS),
            Map.entry("POST /console/keys/shredding", Permissions.MANAGE_KEYS),
            Map.entry("POST /console/keys/shredding/{id}/approve", Permissions.MANAGE_KEYS),
            Map.entry("POST /console/keys/shredding/{id}/refuse", Permissions.MANAGE_KEYS),
            Map.entry("GET /console/users", Permissions.MANAGE_USERS),
            Map.entry("POST /console/users/{name}/roles", Permissions.MANAGE_USERS),
            Map.entry("POST /console/users/{name}/disable", Permissions.MANAGE_USERS),
            Map.entry("POST /console/users/{name}/revoke-sessions", Permissions.MANAGE_USERS));

    /** Neither an id nor an account name ({@code <not-an-id>}, percent-encoded in the path). */
    private static final String MALFORMED = "%3Cnot-an-id%3E";
    private static final Pattern VARIABLE = Pattern.compile("\\{([A-Za-z0-9_]+)(:[^}]*)?}");

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    private RequestMappingHandlerMapping mappings;

    @Autowired
    private Shredding shredding;

    @Autowired
    private ComplianceReports compliance;

    @Autowired
    private Evidence evidence;

    /** What the routes act on; the ids every route's variables are filled with. */
    private record Targets(Incident incident, UUID shreddingRequest, String account, UUID report, UUID event,
            String patient) {}

    /** Everything a refused request could have changed, read through the services the pages call. */
    private record State(String incident, int custody, String shreddingRequests, int reports, String account) {}

    @Test
    void everyConsoleRouteRefusesWhoeverLacksItsPermissionChangesNothingAndAuditsTheRefusal() {
        Map<String, Set<String>> routes = consoleRoutes();
        assertThat(routes.keySet()).as("the handler mappings hold the console's routes").containsAll(NEEDED.keySet());

        Targets targets = targets();
        ConsoleVisitor nobody = signedIn(TestPolicy.CLINICIAN);
        Map<String, ConsoleVisitor> allBut = new TreeMap<>();
        for (String permission : Set.copyOf(NEEDED.values())) {
            allBut.put(permission, signedIn(ROLE_OF.entrySet().stream().filter(e -> !e.getKey().equals(permission))
                    .map(Map.Entry::getValue).toArray(String[]::new)));
        }

        State before = state(targets);
        Map<String, Long> otherEventsBefore = new TreeMap<>();
        for (ConsoleVisitor visitor : visitors(nobody, allBut)) {
            otherEventsBefore.put(visitor.user, otherEvents(visitor.user));
        }
        List<String> tried = new ArrayList<>();
        for (Map.Entry<String, Set<String>> route : routes.entrySet()) {
            String key = route.getKey();
            if (OPEN.contains(key)) {
                continue;
            }
            String method = key.substring(0, key.indexOf(' '));
            String pattern = key.substring(key.indexOf(' ') + 1);
            String path = concrete(pattern, targets, false);
            refused(nobody, method, path, fieldsFor(key, targets), path, key + " without any console permission");
            if (VARIABLE.matcher(pattern).find()) {
                // a malformed id: refused and audited all the same, its segment written as * (nothing echoed)
                refused(nobody, method, concrete(pattern, targets, true), Map.of(), malformedAudited(pattern, targets),
                        key + " with a malformed id, without any console permission");
            }
            String needed = NEEDED.get(key);
            if (needed != null) {
                refused(allBut.get(needed), method, path, fieldsFor(key, targets), path,
                        key + " with every console permission but " + needed);
            }
            tried.add(key);
            assertThat(state(targets)).as("nothing changed after %s", key).isEqualTo(before);
        }
        assertThat(tried).as("every listed route was tried").containsAll(NEEDED.keySet());

        // nothing but refusals was recorded for any of them: no search, export, change in their name
        for (ConsoleVisitor visitor : visitors(nobody, allBut)) {
            assertThat(otherEvents(visitor.user)).as(visitor.user).isEqualTo(otherEventsBefore.get(visitor.user));
            assertThat(auditQueries.search(new AuditQueries.Criteria(null, visitor.user, null, null, List.of("denied"),
                    null, 1000))).isNotEmpty().allSatisfy(event ->
                            assertThat(event.context().app()).isEqualTo(ConsoleApp.CLIENT_ID));
        }
    }

    private long otherEvents(String principal) {
        return JdbcClient.create(dataSource).sql("select count(*) from audit.event where actor = ? and action <> 'denied'")
                .param(principal).query(Long.class).single();
    }

    /** Sends the request; expects the console's 403 page and exactly one more {@code denied} event naming {@code audited}. */
    private void refused(ConsoleVisitor visitor, String method, String path, Map<String, String> fields, String audited,
            String what) {
        long deniedBefore = denied(visitor.user, audited);
        HttpResponse<String> response = send(visitor, method, path, fields);
        assertThat(response.statusCode()).as(what).isEqualTo(403);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).as(what).startsWith("text/html");
        assertThat(response.headers().allValues("Content-Security-Policy")).as(what)
                .containsExactly(ConsoleSecurityTest.CSP);
        assertThat(response.headers().firstValue("Cache-Control").orElse("")).as(what).contains("no-store");
        assertThat(response.body()).as(what).contains("role=\"alert\"").contains("permission");
        assertThat(denied(visitor.user, audited)).as("%s: audited as denied, naming %s", what, audited)
                .isEqualTo(deniedBefore + 1);
    }

    private HttpResponse<String> send(ConsoleVisitor visitor, String method, String path, Map<String, String> fields) {
        if ("GET".equals(method)) {
            return visitor.get(fields.isEmpty() ? path : path + "?" + form(fields));
        }
        // a valid CSRF token of the visitor's own session, so the request reaches the permission check
        String token = ConsoleVisitor.metaCsrf(visitor.get("/console").body());
        Map<String, String> all = new LinkedHashMap<>(fields);
        all.put("_csrf", token);
        if ("POST".equals(method)) {
            return visitor.post(path, all);
        }
        return visitor.browser.send(HttpRequest.newBuilder(URI.create(visitor.absolute(path)))
                .header("Content-Type", "application/x-www-form-urlencoded").header("X-CSRF-TOKEN", token)
                .method(method, HttpRequest.BodyPublishers.ofString(form(all))));
    }

    /** Every {@code METHOD /pattern} of Spring MVC's handler mappings under /console (no method named: GET and POST). */
    private Map<String, Set<String>> consoleRoutes() {
        Map<String, Set<String>> routes = new TreeMap<>();
        for (RequestMappingInfo info : mappings.getHandlerMethods().keySet()) {
            Set<RequestMethod> methods = info.getMethodsCondition().getMethods();
            Set<String> names = methods.isEmpty() ? Set.of("GET", "POST")
                    : methods.stream().map(RequestMethod::name).collect(Collectors.toSet());
            for (String pattern : info.getPatternValues()) {
                if (pattern.equals(ConsoleApp.PATH) || pattern.startsWith(ConsoleApp.PATH + "/")) {
                    for (String method : names) {
                        routes.put(method + " " + pattern, names);
                    }
                }
            }
        }
        return routes;
    }

    /** The pattern with its variables filled: real ids of what the route acts on, or a malformed first one. */
    private static String concrete(String pattern, Targets targets, boolean malformedFirst) {
        Matcher variable = VARIABLE.matcher(pattern);
        StringBuilder path = new StringBuilder();
        boolean first = true;
        while (variable.find()) {
            String value = malformedFirst && first ? MALFORMED
                    : valueFor(pattern.substring(0, variable.start()), variable.group(1), targets);
            variable.appendReplacement(path, Matcher.quoteReplacement(value));
            first = false;
        }
        variable.appendTail(path);
        return path.toString();
    }

    /** The path a refusal with a malformed id is audited under: the id's segment as {@code *}. */
    private static String malformedAudited(String pattern, Targets targets) {
        return concrete(pattern, targets, true).replace("/" + MALFORMED, "/*");
    }

    private static String valueFor(String before, String name, Targets targets) {
        if ("name".equals(name)) {
            return targets.account();
        }
        if (before.endsWith("/incidents/")) {
            return targets.incident().id().toString();
        }
        if (before.endsWith("/shredding/")) {
            return targets.shreddingRequest().toString();
        }
        if (before.endsWith("/reports/")) {
            return targets.report().toString();
        }
        if (before.endsWith("/events/")) {
            return targets.event().toString();
        }
        if (before.endsWith("/clients/") || before.endsWith("/apps/")) {
            return "svc-" + UUID.randomUUID().toString().substring(0, 8); // a client id's shape
        }
        return UUID.randomUUID().toString(); // a route added later: an id that parses
    }

    /** The fields that would make the route act (or read) if it let the request through. */
    private static Map<String, String> fieldsFor(String route, Targets targets) {
        String patientId = targets.patient().substring("Patient/".length());
        return switch (route) {
            case "POST /console/incidents/{id}/contain" -> Map.of("revokeSessions", "on", "disable", "on");
            case "POST /console/incidents/{id}/risk" -> Map.of("phiInvolved", "CLINICAL", "recipient", "WORKFORCE_MEMBER",
                    "acquisition", "VIEWED", "mitigation", "FULLY", "conclusion", "LOW_PROBABILITY_OF_COMPROMISE");
            case "POST /console/incidents/{id}/breach" -> Map.of("discoveredOn", LocalDate.now().toString(),
                    "affected", "3", "residentsByState", "CA 3");
            case "POST /console/incidents/{id}/close" -> Map.of("state", "closed", "resolution", "false-positive");
            case "POST /console/keys/shredding" -> Map.of("patient", patientId, "reason", "RET-PERMISSION-1");
            case "POST /console/users/{name}/roles" -> Map.of("roles", TestPolicy.CLINICIAN);
            case "GET /console/audit" -> Map.of("patient", patientId);
            case "GET /console/audit/disclosures", "GET /console/audit/disclosures.csv" -> Map.of("patient", patientId);
            case "GET /console/compliance/reports/{id}" -> Map.of("format", "signed");
            default -> Map.of();
        };
    }

    private Targets targets() {
        Incident incident = openIncident();
        String patient = createPatient();
        ConsoleVisitor admin = signedIn("admin");
        assertThat(admin.postFrom("/console/keys", "/console/keys/shredding", Map.of("patient", patient, "reason",
                "RET-PERMISSION-0")).statusCode()).isEqualTo(302);
        UUID request = shredding.list().stream().filter(r -> r.patient().equals("Patient/" + patient)).findFirst()
                .orElseThrow().id();
        String account = enrolled(TestPolicy.CLINICIAN).user;
        UUID report = compliance.evaluateAndStore().id();
        UUID event = JdbcClient.create(dataSource).sql("select event_id from audit.event order by id desc limit 1")
                .query(UUID.class).single();
        return new Targets(incident, request, account, report, event, "Patient/" + patient);
    }

    private State state(Targets targets) {
        Incident incident = incidents.find(targets.incident().id()).orElseThrow();
        String account = users.list().stream().filter(user -> user.userName().equals(targets.account()))
                .map(user -> user.roles() + " disabled=" + user.disabled()).findFirst().orElseThrow();
        long openSessions = JdbcClient.create(dataSource).sql("""
                select count(*) from iam.session s join iam.app_user u on u.id = s.user_id
                where u.user_name = ? and s.revoked_at is null""").param(targets.account()).query(Long.class).single();
        return new State(incident.state() + " timeline=" + incident.timeline().size() + " risk=" + (incident.risk() != null)
                        + " breach=" + (incident.breach() != null),
                evidence.custody(targets.incident().id()).size(),
                shredding.list().stream().map(r -> r.id() + "=" + r.state()).sorted().collect(Collectors.joining(",")),
                compliance.stored().size(), account + " sessions=" + openSessions);
    }

    private long denied(String principal, String resource) {
        return auditQueries.search(new AuditQueries.Criteria(null, principal, null, null, List.of("denied"), null, 1000))
                .stream().filter(event -> event.resource().equals(resource)).count();
    }

    private static List<ConsoleVisitor> visitors(ConsoleVisitor nobody, Map<String, ConsoleVisitor> allBut) {
        List<ConsoleVisitor> all = new ArrayList<>(allBut.values());
        all.add(0, nobody);
        return all;
    }

    private static String form(Map<String, String> fields) {
        return fields.entrySet().stream().map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
    }
}
