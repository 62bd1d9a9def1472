package health.carapace.access.internal;

import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import org.springframework.http.ResponseEntity;
import org.springframework.mock.web.MockHttpServletRequest;

/**
 * {@code PUT /admin/roles/{name}} in this JVM, for the fast fuzz target: the server's own
 * {@link RolesEndpoint} over a {@link PolicyDirectory} of the start-dev roles in a temporary
 * directory and a {@link RolePolicy}, without HTTP, Spring Security or the database (the audit
 * records are counted, not stored). A document the endpoint accepts is deleted again through
 * the same endpoint, so the directory stays the dev roles and each input is judged against them.
 */
public final class RoleDocumentsInput {

    /** What the client would be sent. */
    public record Answer(int status, String body) {}

    private final RolesEndpoint endpoint;
    private final Path directory;

    private RoleDocumentsInput(Path directory) {
        this.directory = directory;
        PolicyDirectory policyDirectory = new PolicyDirectory(directory.resolve("policy"), ZoneOffset.UTC);
        if (!policyDirectory.seedDevRolesIfAbsent()) {
            throw new IllegalStateException("the fuzz policy directory was not new");
        }
        this.endpoint = new RolesEndpoint(policyDirectory, new RolePolicy(policyDirectory.load()), new CountedAudit());
    }

    /** A new directory of the dev roles under the system's temporary directory, removed when the JVM exits. */
    public static RoleDocumentsInput withDevRoles() {
        try {
            Path directory = Files.createTempDirectory("carapace-fuzz-roles-");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> removeQuietly(directory)));
            return new RoleDocumentsInput(directory);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void removeQuietly(Path directory) {
        try (var paths = Files.walk(directory)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // a temporary directory of a test JVM: the system's cleaning removes what is left
        }
    }

    public Path directory() {
        return directory;
    }

    /** The endpoint's answer to {@code PUT /admin/roles/{name}} with this content type and body. */
    public Answer put(String name, String contentType, byte[] body) throws IOException {
        MockHttpServletRequest request = new MockHttpServletRequest("PUT", "/admin/roles/" + name);
        if (contentType != null) {
            request.setContentType(contentType);
        }
        request.setContent(body);
        ResponseEntity<String> answer = endpoint.put(name, request);
        if (answer.getStatusCode().is2xxSuccessful()) {
            ResponseEntity<String> deleted = endpoint.delete(name, new MockHttpServletRequest("DELETE", "/admin/roles/" + name));
            if (deleted.getStatusCode().value() != 204) {
                throw new AssertionError("an accepted role could not be deleted again: " + deleted.getStatusCode());
            }
        }
        return new Answer(answer.getStatusCode().value(), answer.getBody() == null ? "" : answer.getBody());
    }

    /** Audit records are the endpoint's side effect, not this target's subject. */
    private static final class CountedAudit implements AuditTrail {
        private long events;

        @Override
        public void record(List<AuditEvent> events) {
            this.events += events.size();
        }

        @Override
        public void recordInTransaction(List<AuditEvent> events) {
            this.events += events.size();
        }

        @Override
        public byte[] encryptQuery(UUID eventId, String query) {
            throw new UnsupportedOperationException("role changes carry no query");
        }
    }
}
