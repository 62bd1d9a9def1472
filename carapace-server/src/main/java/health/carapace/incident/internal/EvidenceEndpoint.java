package health.carapace.incident.internal;

import health.carapace.incident.Evidence;
import health.carapace.incident.Incidents;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /admin/incidents/{id}/evidence[?withHeap=true]} ({@code manage:incidents}): makes a
 * bundle on this node and answers it as the body, encrypted to the evidence public key; the custody
 * record's id and the bundle's SHA-256 come in headers. {@code GET /admin/incidents/{id}/evidence}
 * ({@code view:incidents}): the chain of custody. The bundle is made into a private scratch file
 * first, so that its custody is recorded only once it is whole, and removed once sent.
 */
@RestController
class EvidenceEndpoint {

    static final String CUSTODY_HEADER = "X-Evidence-Custody";
    static final String SHA256_HEADER = "X-Evidence-SHA256";
    static final String MANIFEST_SHA256_HEADER = "X-Evidence-Manifest-SHA256";
    static final String SIGNING_KEY_HEADER = "X-Evidence-Signing-Key";

    private final Evidence evidence;
    private final Incidents incidents;
    private final Path scratchRoot;

    EvidenceEndpoint(Evidence evidence, Incidents incidents, EvidenceScratch scratch) {
        this.evidence = evidence;
        this.incidents = incidents;
        this.scratchRoot = scratch.root();
    }

    /** Where bundles wait between being made and being sent (a private directory). */
    record EvidenceScratch(Path root) {}

    @PostMapping("/admin/incidents/{id}/evidence")
    ResponseEntity<?> make(@PathVariable("id") String id, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        UUID incident = IncidentsEndpoint.id(id);
        if (incident == null) {
            return IncidentsEndpoint.notFound();
        }
        for (String name : request.getParameterMap().keySet()) {
            if (!Set.of("withHeap").contains(name)) {
                return AdminJson.outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID, "The only parameter is withHeap");
            }
        }
        String[] heap = request.getParameterValues("withHeap");
        if (heap != null && (heap.length != 1 || !Set.of("true", "false").contains(heap[0]))) {
            return AdminJson.outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID, "withHeap is true or false");
        }
        boolean withHeap = heap != null && heap[0].equals("true");
        Files.createDirectories(scratchRoot);
        Path file = Files.createTempFile(scratchRoot, "bundle-", ".evidence",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Evidence.Made made;
            try (OutputStream out = Files.newOutputStream(file)) {
                made = evidence.write(incident, withHeap, out, IncidentsEndpoint.actor(request));
            } catch (Incidents.Refused refused) {
                return switch (refused.reason()) {
                    case NOT_FOUND -> IncidentsEndpoint.notFound();
                    case CONFLICT -> AdminJson.outcome(HttpStatus.CONFLICT, IssueType.CONFLICT, refused.getMessage());
                    case INVALID -> AdminJson.outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID, refused.getMessage());
                };
            } catch (EvidenceKeys.Unusable noKey) {
                return AdminJson.outcome(HttpStatus.SERVICE_UNAVAILABLE, IssueType.EXCEPTION, noKey.getMessage());
            }
            Evidence.Custody custody = made.custody();
            response.setStatus(HttpStatus.OK.value());
            response.setContentType("application/octet-stream");
            response.setHeader("Content-Disposition",
                    "attachment; filename=\"evidence-" + incident + "-" + custody.id() + ".bundle\"");
            response.setHeader("Cache-Control", "no-store");
            response.setHeader(CUSTODY_HEADER, custody.id().toString());
            response.setHeader(SHA256_HEADER, custody.bundleSha256());
            response.setHeader(MANIFEST_SHA256_HEADER, custody.manifestSha256());
            response.setHeader(SIGNING_KEY_HEADER, custody.signingKeyId());
            response.setContentLengthLong(custody.bundleBytes());
            try (OutputStream body = response.getOutputStream()) {
                Files.copy(file, body);
            }
            return null;
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @GetMapping("/admin/incidents/{id}/evidence")
    ResponseEntity<String> custody(@PathVariable("id") String id, HttpServletRequest request) {
        UUID incident = IncidentsEndpoint.id(id);
        if (incident == null) {
            return IncidentsEndpoint.notFound();
        }
        if (!request.getParameterMap().isEmpty()) {
            return AdminJson.outcome(HttpStatus.BAD_REQUEST, IssueType.INVALID, "The custody list takes no parameters");
        }
        if (incidents.find(incident).isEmpty()) {
            return IncidentsEndpoint.notFound();
        }
        return AdminJson.ok(HttpStatus.OK, Map.of("incident", incident, "custody", evidence.custody(incident)));
    }
}
