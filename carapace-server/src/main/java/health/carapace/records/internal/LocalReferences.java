package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.util.ResourceReferenceInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The one reference rule (ADR 0021): every reference to a record of a type this server serves,
 * written relative ({@code Type/id}), must name a record that exists here and is not deleted, in
 * every write (create, update, PATCH, conditional writes, batch and transaction entries); otherwise
 * the write is refused with 400 naming the element, never the reference. References to other
 * servers (absolute URLs), to contained resources ({@code #id}) and to types this server does not
 * serve are left as they are; conditional references ({@code Type?criteria}) are refused. The check
 * is one statement per write. Existence is checked whatever the caller's scope: the ids are
 * server-assigned random UUIDs, so it confirms only what the writer already knew.
 */
final class LocalReferences {

    private final JdbcClient jdbc;
    private final FhirContext fhir;
    private final ThreadLocal<List<Resource>> deferred = new ThreadLocal<>();

    LocalReferences(JdbcClient jdbc, FhirContext fhir) {
        this.jdbc = jdbc;
        this.fhir = fhir;
    }

    <T> T deferred(Supplier<T> work) {
        if (deferred.get() != null) {
            return work.get();
        }
        deferred.set(new ArrayList<>());
        try {
            T result = work.get();
            verify(deferred.get());
            return result;
        } finally {
            deferred.remove();
        }
    }

    /** Checks (or, inside a transaction, remembers for its end) the references of a record about to be stored. */
    void check(Resource resource, String compartment) {
        List<Resource> later = deferred.get();
        if (later != null) {
            later.add(resource);
            return;
        }
        verify(List.of(resource));
    }

    /**
     * Checks the records' references with one statement for all of them (a transaction Bundle's
     * records at its end: one round trip instead of one per record). Refuses with the first
     * record's problem in the given order, as checking them one by one would.
     */
    private void verify(List<Resource> resources) {
        List<Map<String, String>> targets = new ArrayList<>(resources.size());
        SafeFhirException unreadable = null;
        for (Resource resource : resources) {
            try {
                targets.add(targetsOf(resource));
            } catch (SafeFhirException e) {
                // the records before it are still checked first, so the refusal names the same one
                unreadable = e;
                break;
            }
        }
        Set<String> found = existing(targets);
        for (Map<String, String> elementByTarget : targets) {
            for (var entry : elementByTarget.entrySet()) {
                if (!found.contains(entry.getKey())) {
                    throw missing(entry.getValue());
                }
            }
        }
        if (unreadable != null) {
            throw unreadable;
        }
    }

    /** The local records a resource references ({@code Type/uuid}), each with the first element that names it. */
    private Map<String, String> targetsOf(Resource resource) {
        Map<String, String> elementByTarget = new LinkedHashMap<>();
        for (ResourceReferenceInfo info : fhir.newTerser().getAllResourceReferences(resource)) {
            String reference = info.getResourceReference().getReferenceElement().getValue();
            if (reference == null || reference.startsWith("#") || reference.contains("://") || reference.startsWith("urn:")) {
                continue;
            }
            String element = resource.fhirType() + "." + info.getName();
            if (reference.contains("?")) {
                throw refusal("A conditional reference in " + element + " is not supported: reference records by Type/id",
                        element);
            }
            String[] parts = reference.split("/");
            if (parts.length < 2 || !ResourceTypes.names().contains(parts[0])) {
                continue;
            }
            Optional<UUID> id = Ids.parse(parts[1]);
            if (id.isEmpty()) {
                throw missing(element);
            }
            elementByTarget.putIfAbsent(parts[0] + "/" + id.get(), element);
        }
        return elementByTarget;
    }

    /** Which of the targets exist and are not deleted, in one statement (none if there are no targets). */
    private Set<String> existing(List<Map<String, String>> targets) {
        Set<String> wanted = new java.util.LinkedHashSet<>();
        targets.forEach(elementByTarget -> wanted.addAll(elementByTarget.keySet()));
        if (wanted.isEmpty()) {
            return Set.of();
        }
        List<String> types = new ArrayList<>();
        List<UUID> ids = new ArrayList<>();
        wanted.forEach(target -> {
            String[] parts = target.split("/");
            types.add(parts[0]);
            ids.add(UUID.fromString(parts[1]));
        });
        return Set.copyOf(jdbc.sql("""
                select r.resource_type || '/' || r.resource_id from phi.resource r
                join unnest(?::text[], ?::uuid[]) as wanted(resource_type, resource_id)
                  on r.resource_type = wanted.resource_type and r.resource_id = wanted.resource_id
                where not r.deleted""")
                .params(types.toArray(String[]::new), ids.toArray(UUID[]::new))
                .query(String.class)
                .list());
    }

    private static SafeFhirException missing(String element) {
        return refusal("The reference in " + element + " names a record that does not exist on this server", element);
    }

    private static SafeFhirException refusal(String message, String element) {
        SafeFhirException refusal = SafeFhirException.badRequest(message);
        ((org.hl7.fhir.r4.model.OperationOutcome) refusal.getOperationOutcome()).getIssueFirstRep().addExpression(element);
        return refusal;
    }
}
