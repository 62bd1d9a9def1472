package health.carapace.telehealth.internal;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/**
 * The visit page and its scripts, from a fixed list of files in this module's resources (no
 * directory is served, so no path can reach anything else). All script is served from here: the
 * page's Content-Security-Policy allows scripts, the worker and connections from this origin only,
 * with no inline script and no eval; media may come from the camera and the peers.
 */
@RestController
class VisitPage {

    static final String PAGE = "/telehealth/visit";

    /** The page's policy: replaces the API default (SecurityHeaders) for these responses only. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; worker-src 'self'; "
            + "connect-src 'self'; style-src 'self'; img-src 'self'; media-src 'self' blob: mediastream:; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static final String RESOURCES = "/health/carapace/telehealth/web/";
    private static final Map<String, String> SCRIPTS = Map.of(
            "visit.js", "text/javascript",
            "sframe.js", "text/javascript",
            "e2ee-worker.js", "text/javascript",
            "keys.js", "text/javascript",
            "visit.css", "text/css");
    private static final Map<String, byte[]> CONTENT = load();

    @GetMapping(PAGE)
    void page(HttpServletResponse response) throws IOException {
        send(response, "visit.html", "text/html");
    }

    @GetMapping("/telehealth/static/{name}")
    void script(@PathVariable String name, HttpServletResponse response) throws IOException {
        String type = SCRIPTS.get(name);
        if (type == null) {
            health.carapace.platform.web.OperationOutcomes.write(response, 404,
                    org.hl7.fhir.r4.model.OperationOutcome.IssueType.NOTFOUND, "No such file");
            return;
        }
        send(response, name, type);
    }

    private static void send(HttpServletResponse response, String name, String type) throws IOException {
        response.setStatus(200);
        response.setContentType(type + ";charset=utf-8");
        response.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        response.setHeader("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()");
        response.getOutputStream().write(CONTENT.get(name));
    }

    private static Map<String, byte[]> load() {
        java.util.HashMap<String, byte[]> files = new java.util.HashMap<>();
        for (String name : new java.util.TreeSet<>(java.util.Set.copyOf(
                java.util.stream.Stream.concat(SCRIPTS.keySet().stream(), java.util.stream.Stream.of("visit.html")).toList()))) {
            try (InputStream in = VisitPage.class.getResourceAsStream(RESOURCES + name)) {
                if (in == null) {
                    throw new IllegalStateException("the visit page's file " + name + " is missing from the build");
                }
                files.put(name, in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return Map.copyOf(files);
    }
}
