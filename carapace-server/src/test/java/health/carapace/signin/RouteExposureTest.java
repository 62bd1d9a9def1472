package health.carapace.signin;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.util.JSONObjectUtils;
import health.carapace.testing.IntegrationTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestResourceComponent;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.context.WebApplicationContext;
import org.springframework.web.servlet.handler.AbstractUrlHandlerMapping;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.RequestMappingInfoHandlerMapping;

/**
 * Every route the application exposes, called without credentials, must be refused (401 or 403),
 * except the allow-list below. Routes are not listed by hand: they are read from the running
 * application (Spring MVC handler mappings, servlet registrations, the authorization server's
 * discovery document, the FHIR CapabilityStatement), so a route added later is probed without
 * anyone remembering to add it here. Unknown paths and path-normalisation tricks are added.
 *
 * <p>The allow-list, and why each entry is open:
 * <ul>
 *   <li>{@code GET /fhir/metadata}: the CapabilityStatement; FHIR clients read it before they
 *       have a token, and it holds no record data.</li>
 *   <li>{@code GET /health}: for load balancers; says UP or DOWN and nothing else.</li>
 *   <li>{@code GET /.well-known/oauth-authorization-server}: the authorization server's metadata
 *       (RFC 8414), which tells clients where the token endpoint is.</li>
 *   <li>{@code GET /oauth2/jwks}: the public keys that verify access tokens; public by design,
 *       and checked here to hold no private key material.</li>
 *   <li>{@code GET /.well-known/smart-configuration}, also under {@code /fhir}: SMART App Launch
 *       discovery (issue #18), which tells apps where to authorize; no record data.</li>
 *   <li>{@code GET /assets/carapace.css}: the stylesheet of the sign-in pages (issue #20), which
 *       load it before anyone has signed in; that one file only, no data.</li>
 * </ul>
 * The token endpoint is not on the list: without client authentication it must refuse too. Nor is
 * the metrics scrape, {@code GET /admin/metrics}: it needs {@code view:metrics} (there is no
 * actuator; its usual paths are probed as unknown routes).
 *
 * <p>The sign-in pages ({@code /login}, {@code /login/mfa}, {@code /login/totp},
 * {@code /login/enrol}; ADR 0007) are public by nature, and checked for what they may answer: a
 * page (HTML under a strict Content-Security-Policy, never cached), a redirect to {@code /login}
 * when no sign-in is under way, 404 for an enrolment link that is not valid, or a refusal (a
 * form posted without its CSRF token). None of them may hold a record or a token.
 * OpenID Connect is not enabled, so {@code /.well-known/openid-configuration} is not on it either.
 *
 * <p>Two more kinds of answer are expected, each for an explicit list of malformed paths only.
 * A path that is not in canonical form (dot or empty segments, {@code ;}, encoded dots) is
 * refused with a 400 OperationOutcome by {@code CanonicalPaths} before authentication, so it
 * never reaches a route at all. A path with an encoded slash is refused by Tomcat itself, with
 * a bare 400, before any filter; the missing {@code X-Request-Id} shows that no application
 * code saw the request.
 */
@ExtendWith(OutputCaptureExtension.class)
class RouteExposureTest extends IntegrationTest {

    private static final List<String> METHODS = List.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS");

    private static final Set<String> ALLOWED = Set.of(
            "GET /fhir/metadata",
            "GET /health",
            "GET /health/live",
            "GET /health/ready",
            "GET /.well-known/oauth-authorization-server",
            "GET /.well-known/smart-configuration",
            "GET /fhir/.well-known/smart-configuration",
            "GET /oauth2/jwks",
            "GET /assets/carapace.css");

    private static final Set<String> SIGN_IN_PAGES = Set.of("/login", "/login/mfa", "/login/totp", "/login/enrol",
            "/login/consent");

    /** Spellings that a lax matcher might resolve to an open route, or to a route by two paths. */
    private static final Set<String> NOT_CANONICAL = Set.of(
            "/fhir/metadata/../Patient", "/fhir/./Patient", "/fhir//Patient", "/fhir/metadata;x=y",
            "/health/../fhir/Patient", "/health;x=y/../fhir/Patient", "/fhir/%2e%2e/health",
            "/health/%2e%2e/fhir/Patient", "/fhir/Patient;metadata", "/%66hir/Patient/x", "/fhir/%50atient");

    /** Paths Tomcat rejects before any filter (an encoded slash); the refusal is still Carapace's. */
    private static final Set<String> REJECTED_BY_CONTAINER = Set.of(
            "/fhir/metadata%2F..%2FPatient",
            "/health%2F..%2Ffhir%2FPatient");

    @Autowired
    private WebApplicationContext context;

    @Autowired
    private DataSource dataSource;

    /** A tag on every resource created here: a response that contains it leaked a record. */
    private final String recordMarker = "probe" + UUID.randomUUID().toString().replace("-", "");

    @Test
    void everyRouteRefusesARequestWithoutATokenExceptTheAllowList(CapturedOutput output) throws Exception {
        HttpClient client = http();
        Set<String> paths = new TreeSet<>();
        paths.addAll(springMvcRoutes());
        paths.addAll(servletRoutes());
        paths.addAll(authorizationServerRoutes(client));
        paths.addAll(fhirRoutes(client));
        paths.addAll(unknownRoutes());
        assertThat(paths).as("routes found in the running application")
                .contains("/health", "/fhir/probe", "/oauth2/token", "/oauth2/jwks", "/fhir/Patient/_history",
                        "/admin/metrics")
                .hasSizeGreaterThan(100);
        long rowsBefore = storedRows();
        int logBefore = output.getAll().length();

        List<String> violations = new ArrayList<>();
        for (String path : paths) {
            for (String method : METHODS) {
                HttpResponse<String> response = client.send(request(method, path), HttpResponse.BodyHandlers.ofString());
                String route = method + " " + path;
                String problem = ALLOWED.contains(route) ? checkAllowed(route, response)
                        : SIGN_IN_PAGES.contains(path) ? checkSignInPage(method, response)
                        : isConsolePage(path) ? checkConsolePage(method, path, response)
                        : isVisitPage(path) && method.equals("GET") ? checkVisitPage(path, response)
                        : NOT_CANONICAL.contains(path) ? checkRejectedAsNotCanonical(method, response)
                        : REJECTED_BY_CONTAINER.contains(path) ? checkRejectedByContainer(response)
                        : checkRefused(route, response);
                if (problem != null) {
                    violations.add(route + " -> " + response.statusCode() + ": " + problem);
                }
            }
        }

        assertThat(violations).as("routes that answered a request without a token").isEmpty();
        assertThat(storedRows()).as("rows in phi.resource after writes without a token").isEqualTo(rowsBefore);
        // A refusal that the client sees as 401 may still have been a server error first (the
        // error page is itself refused): none of these requests may make the server fail.
        assertThat(output.getAll().substring(logBefore)).as("server log while probing")
                .doesNotContain("\"level\":\"ERROR\"");
    }

    // --- what each response may be ------------------------------------------------------------

    private String checkRefused(String route, HttpResponse<String> response) {
        // An authorization request without client_id is invalid before anyone is asked to sign
        // in: the authorization server refuses it with 400 (RFC 6749 §4.1.2.1), as an outcome.
        boolean invalidAuthorizationRequest = route.endsWith(" /oauth2/authorize") && response.statusCode() == 400
                && isOutcome(response);
        if (response.statusCode() != 401 && response.statusCode() != 403 && !invalidAuthorizationRequest) {
            return "expected 401 or 403";
        }
        return leaks(response);
    }

    private String checkSignInPage(String method, HttpResponse<String> response) {
        int status = response.statusCode();
        if (status == 303) {
            if (!"/login".equals(response.headers().firstValue("Location").orElse(""))) {
                return "a sign-in page may only redirect to /login";
            }
        } else if ((status == 200 || status == 404) && method.equals("GET")) {
            if (!response.headers().firstValue("Content-Type").orElse("").startsWith("text/html")
                    || !response.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'none'")
                    || response.headers().allValues("Cache-Control").stream().noneMatch(v -> v.contains("no-store"))) {
                return "a sign-in page must be HTML under the strict CSP, not cached";
            }
        } else if (!(status == 200 && (method.equals("HEAD") || method.equals("OPTIONS")))
                && !(status == 404 && method.equals("HEAD")) && status != 401 && status != 403
                && !(status == 405 && isOutcome(response))) {
            return "expected a sign-in page, a redirect to /login, 404 or a refusal";
        }
        if (response.body().contains("access_token") || response.body().contains("refresh_token")) {
            return "a sign-in page handed out a token";
        }
        return leaks(response);
    }

    /** The telehealth visit page, its scripts and its WebSocket path are public (a link opens them). */
    private static boolean isVisitPage(String path) {
        return path.equals("/telehealth/visit") || path.startsWith("/telehealth/static/") || path.equals("/telehealth/signal");
    }

    /**
     * The visit page and its files: 200 under a CSP that allows only this origin's scripts (no
     * inline, no eval), never cached; an unknown file 404 and a plain request to the socket's
     * path 400, as OperationOutcomes. No token or record in any of them.
     */
    private String checkVisitPage(String path, HttpResponse<String> response) {
        int status = response.statusCode();
        String csp = response.headers().firstValue("Content-Security-Policy").orElse("");
        if (status == 200 && !path.equals("/telehealth/signal")) {
            if (!csp.contains("script-src 'self'") || csp.contains("unsafe") || !csp.contains("frame-ancestors 'none'")
                    || response.headers().allValues("Cache-Control").stream().noneMatch(v -> v.contains("no-store"))) {
                return "the visit page must be served under its strict CSP, not cached";
            }
        } else if (!((status == 404 && path.startsWith("/telehealth/static/"))
                || (status == 400 && path.equals("/telehealth/signal"))) || !isOutcome(response)) {
            return "expected the visit page, or a 404 / 400 OperationOutcome";
        }
        if (response.body().contains("access_token") || response.body().contains("#ticket=")) {
            return "the visit page handed out a token or a ticket";
        }
        return leaks(response);
    }

    private static boolean isConsolePage(String path) {
        return path.equals("/console") || path.startsWith("/console/");
    }

    /**
     * The privacy officer's console (ADR 0031): a page view without a console session is sent to
     * sign in through the authorization server as the console's app (PKCE); its callback without a
     * sign-in under way and the signed-out page are pages; anything else is refused with the
     * console's HTML error page. No console session is ever handed out.
     */
    private String checkConsolePage(String method, String path, HttpResponse<String> response) {
        int status = response.statusCode();
        boolean read = method.equals("GET") || method.equals("HEAD");
        if (response.headers().allValues("Set-Cookie").stream()
                .anyMatch(cookie -> cookie.startsWith("__Host-carapace-console=") && !cookie.contains("Max-Age=0"))) {
            return "a console session was handed out without a sign-in";
        }
        if (status == 302 && method.equals("GET")) {
            String location = response.headers().firstValue("Location").orElse("");
            return location.startsWith(baseUrl() + "/oauth2/authorize?response_type=code&client_id=carapace-console&")
                    ? leaks(response) : "a console page may only redirect to the console's authorization request";
        }
        boolean page = read && ((status == 200 && path.equals("/console/signed-out"))
                || (status == 400 && path.equals("/console/callback")));
        if (!page && status != 401 && status != 403) {
            return "expected a redirect to sign in, the signed-out page, or a refusal";
        }
        if (!response.headers().firstValue("Content-Type").orElse("").startsWith("text/html") && !method.equals("HEAD")
                || !response.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'none'")
                || response.headers().allValues("Cache-Control").stream().noneMatch(v -> v.contains("no-store"))) {
            return "a console answer must be HTML under the strict CSP, not cached";
        }
        return leaks(response);
    }

    private String checkRejectedAsNotCanonical(String method, HttpResponse<String> response) {
        if (response.statusCode() != 400 || response.headers().firstValue("X-Request-Id").isEmpty()) {
            return "expected Carapace's 400 for a path that is not canonical";
        }
        if (!method.equals("HEAD") && !(fhir.newJsonParser().parseResource(response.body()) instanceof OperationOutcome)) {
            return "the refusal is not an OperationOutcome";
        }
        return leaks(response);
    }

    private String checkRejectedByContainer(HttpResponse<String> response) {
        if (response.statusCode() != 400 || response.headers().firstValue("X-Request-Id").isEmpty()
                || !response.headers().firstValue("Content-Type").orElse("").startsWith("application/fhir+json")) {
            return "expected Carapace's 400 OperationOutcome for what the container refused";
        }
        return leaks(response);
    }

    private String checkAllowed(String route, HttpResponse<String> response) throws Exception {
        if (response.statusCode() != 200) {
            return "an allowed route must answer 200";
        }
        String body = response.body();
        switch (route) {
            case "GET /fhir/metadata" -> {
                if (!(fhir.newJsonParser().parseResource(body) instanceof CapabilityStatement)) {
                    return "not a CapabilityStatement";
                }
            }
            case "GET /health", "GET /health/live", "GET /health/ready" -> {
                if (!body.equals("{\"status\":\"UP\"}")) {
                    return "health says more than UP";
                }
            }
            case "GET /.well-known/oauth-authorization-server", "GET /.well-known/smart-configuration",
                    "GET /fhir/.well-known/smart-configuration" -> {
                if (!JSONObjectUtils.parse(body).containsKey("token_endpoint")) {
                    return "not authorization server metadata";
                }
            }
            case "GET /oauth2/jwks" -> {
                List<JWK> keys = JWKSet.parse(body).getKeys();
                if (keys.isEmpty() || keys.stream().anyMatch(key -> key.isPrivate() || key.getKeyType().getValue().equals("oct"))) {
                    return "the key set is empty or holds private or symmetric key material";
                }
            }
            case "GET /assets/carapace.css" -> {
                if (!response.headers().firstValue("Content-Type").orElse("").startsWith("text/css")
                        || !body.contains(".cp-shell")) {
                    return "not the stylesheet";
                }
            }
            default -> throw new IllegalStateException("no check for allowed route " + route);
        }
        return leaks(response);
    }

    /** A refusal of a method the page does not serve: an OperationOutcome (no body for HEAD). */
    private static boolean isOutcome(HttpResponse<String> response) {
        return response.headers().firstValue("Content-Type").orElse("").startsWith("application/fhir+json")
                && (response.body().isEmpty() || response.body().contains("\"OperationOutcome\""));
    }

    private String leaks(HttpResponse<String> response) {
        return response.body().contains(recordMarker) ? "the response contains a stored record" : null;
    }

    // --- where routes come from ---------------------------------------------------------------

    /** Every pattern of every Spring MVC handler mapping (controllers, and URL-mapped handlers such as static resources). */
    private Set<String> springMvcRoutes() {
        Set<String> paths = new TreeSet<>();
        context.getBeansOfType(RequestMappingInfoHandlerMapping.class).values().forEach(mapping ->
                mapping.getHandlerMethods().keySet().stream()
                        .map(RequestMappingInfo::getPatternValues)
                        .flatMap(Set::stream)
                        .forEach(pattern -> paths.add(concrete(pattern))));
        context.getBeansOfType(AbstractUrlHandlerMapping.class).values().forEach(mapping ->
                mapping.getHandlerMap().keySet().forEach(pattern -> paths.add(concrete(pattern))));
        assertThat(paths).as("Spring MVC routes").contains("/health");
        return paths;
    }

    /** The URL mappings of every servlet, as registered in the servlet container and as Spring beans. */
    private Set<String> servletRoutes() {
        Set<String> mappings = new TreeSet<>();
        context.getServletContext().getServletRegistrations().values()
                .forEach(registration -> mappings.addAll(registration.getMappings()));
        context.getBeansOfType(ServletRegistrationBean.class).values()
                .forEach(registration -> mappings.addAll(registration.getUrlMappings()));
        assertThat(mappings).as("servlet mappings").contains("/fhir/*", "/");
        Set<String> paths = new TreeSet<>();
        for (String mapping : mappings) {
            if (mapping.endsWith("/*")) {
                String prefix = mapping.substring(0, mapping.length() - 2);
                paths.add(prefix.isEmpty() ? "/" : prefix);
                paths.add(prefix + "/");
                paths.add(prefix + "/probe");
            } else if (mapping.startsWith("*.")) {
                paths.add("/probe" + mapping.substring(1));
            } else {
                paths.add(mapping.isEmpty() ? "/" : mapping);
                paths.add(mapping.endsWith("/") ? mapping + "probe" : mapping + "/probe");
            }
        }
        return paths;
    }

    /** The discovery documents and every endpoint they name (read without credentials, as a client would). */
    private Set<String> authorizationServerRoutes(HttpClient client) throws Exception {
        Set<String> paths = new TreeSet<>();
        for (String discovery : List.of("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration",
                "/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration")) {
            paths.add(discovery);
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri(discovery)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                continue;
            }
            for (Map.Entry<String, Object> member : JSONObjectUtils.parse(response.body()).entrySet()) {
                if ((member.getKey().endsWith("_endpoint") || member.getKey().endsWith("_uri"))
                        && member.getValue() instanceof String url) {
                    paths.add(URI.create(url).getRawPath());
                }
            }
        }
        assertThat(paths).as("authorization server routes").contains("/oauth2/token", "/oauth2/jwks");
        return paths;
    }

    /**
     * Every interaction path of every resource type in the CapabilityStatement, on a stored
     * resource of that type (created with a token), plus the system-level paths.
     */
    private Set<String> fhirRoutes(HttpClient client) throws Exception {
        HttpResponse<String> metadata = client.send(HttpRequest.newBuilder(uri("/fhir/metadata")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        CapabilityStatement capabilities = (CapabilityStatement) fhir.newJsonParser().parseResource(metadata.body());
        List<CapabilityStatementRestResourceComponent> types = capabilities.getRestFirstRep().getResource();
        assertThat(types).as("resource types in the CapabilityStatement").hasSizeGreaterThan(1);

        Set<String> paths = new TreeSet<>(List.of("/fhir", "/fhir/", "/fhir/metadata", "/fhir/_history", "/fhir/_search",
                "/fhir/$export", "/fhir/$meta", "/fhir/$process-message"));
        IGenericClient withToken = fhirClient();
        for (CapabilityStatementRestResourceComponent type : types) {
            String name = type.getType();
            boolean creatable = type.getInteraction().stream().anyMatch(i -> "create".equals(i.getCode().toCode()));
            // search-only types (AuditEvent) are probed with an id that names nothing
            String id = creatable ? storeOne(withToken, name) : UUID.randomUUID().toString();
            String base = "/fhir/" + name;
            paths.addAll(List.of(base, base + "/", base + "/_search", base + "/_history", base + "/$validate",
                    base + "?_id=" + id, base + "/" + id, base + "/" + id + "/_history", base + "/" + id + "/_history/1",
                    base + "/" + id + "/$everything", base + "/" + id + "/$meta"));
        }
        return paths;
    }

    /** Paths nothing maps, and the malformed spellings above. */
    private Set<String> unknownRoutes() {
        String patient = "/fhir/Patient/" + UUID.randomUUID();
        Set<String> paths = new TreeSet<>(List.of("/", "/index.html", "/favicon.ico", "/error", "/admin", "/console", "/actuator",
                "/actuator/health", "/actuator/env", "/actuator/prometheus", "/actuator/metrics", "/metrics", "/api/patients/123", "/swagger-ui.html", "/v3/api-docs",
                "/oauth2/unknown", "/.well-known/unknown", "/fhirx", "/FHIR/metadata", "/fhir-admin",
                "/fhir/metadata/", "/HEALTH", "/health/", "/health.json", patient,
                "/assets/carapace.css", "/assets/probe.css", "/assets/", "/assets"));
        paths.addAll(NOT_CANONICAL);
        paths.addAll(REJECTED_BY_CONTAINER);
        return paths;
    }

    // --- helpers ------------------------------------------------------------------------------

    /** A pattern with every variable and wildcard replaced by a sample segment. */
    private static String concrete(String pattern) {
        return pattern.replaceAll("\\{\\*[^}]*}", "probe/deeper")
                .replace("**", "probe/deeper")
                .replaceAll("\\{[^}]*}", "probe")
                .replace("*", "probe");
    }

    /** Stores one resource of {@code type}, tagged with the marker, and returns its id. */
    private String linkedPatient;

    private String storeOne(IGenericClient withToken, String type) {
        Resource resource = (Resource) fhir.getResourceDefinition(type).newInstance();
        resource.getMeta().addTag("urn:carapace:test:probe", recordMarker, null);
        if (resource instanceof Patient patient) {
            patient.addName().setFamily(recordMarker);
        } else if (resource instanceof org.hl7.fhir.r4.model.Group group) {
            // a group of patients (the only kind kept), listing one
            group.setType(org.hl7.fhir.r4.model.Group.GroupType.PERSON).setActual(true);
            linkToAPatient(withToken, new org.hl7.fhir.r4.model.Observation());
            group.addMember().setEntity(new org.hl7.fhir.r4.model.Reference(linkedPatient));
        } else {
            linkToAPatient(withToken, resource);
        }
        return withToken.create().resource(resource).execute().getId().getIdPart();
    }

    /** A patient-linked record must name its patient (never stored shared): the link set, where the type has one. */
    private void linkToAPatient(IGenericClient withToken, Resource resource) {
        if (linkedPatient == null) {
            Patient patient = new Patient();
            patient.addName().setFamily(recordMarker);
            linkedPatient = "Patient/" + withToken.create().resource(patient).execute().getId().getIdPart();
        }
        org.hl7.fhir.r4.model.Reference reference = new org.hl7.fhir.r4.model.Reference(linkedPatient);
        if (resource instanceof org.hl7.fhir.r4.model.Appointment appointment) {
            appointment.addParticipant().setActor(reference);
            return;
        }
        if (resource instanceof org.hl7.fhir.r4.model.Provenance provenance) {
            provenance.addTarget(reference);
            return;
        }
        for (String link : List.of("subject", "patient", "beneficiary")) {
            try {
                resource.setProperty(link, reference.copy());
                return;
            } catch (RuntimeException notThisTypesLink) {
                // the type has no such element (or not a reference): try the next name
            }
        }
    }

    /** A request without credentials; writes carry a valid Patient, so only the missing token stops them. */
    private HttpRequest request(String method, String path) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri(path));
        if (method.equals("POST") || method.equals("PUT") || method.equals("PATCH")) {
            builder.header("Content-Type", "application/fhir+json")
                    .method(method, BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\""
                            + recordMarker + "\"}]}"));
        } else {
            builder.method(method, BodyPublishers.noBody());
        }
        return builder.build();
    }

    private long storedRows() {
        return JdbcClient.create(dataSource).sql("select count(*) from phi.resource").query(Long.class).single();
    }
}
