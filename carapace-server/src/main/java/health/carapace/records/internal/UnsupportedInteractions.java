package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import health.carapace.access.Interaction;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/**
 * Answers a FHIR request that no handler serves, with the status the HTTP and FHIR specifications
 * give it: 405 with {@code Allow} for a method a served path does not take ({@code POST
 * Patient/1}), 501 for an operation or interaction that is not implemented ({@code Patient/$meta},
 * a compartment search), 400 for a named query ({@code _query}, an unsupported search parameter).
 *
 * <p>HAPI finds that no method matches before {@link AccessEnforcement} runs. A request on a type is
 * decided first, like the search or read it resembles (403, audited, for a caller with nothing on
 * the type); only then does the answer say what is not supported. The OperationOutcome names the
 * method, the type, the operation or the parameter only when it is a name the server or the FHIR
 * specification defines ({@link #KNOWN_OPERATIONS}, the HTTP methods, the served types), never
 * other words of the request: an unknown name is input, and may be data.
 */
final class UnsupportedInteractions {

    /** HAPI's code for "no method matches" ({@code RestfulServer.throwUnknownFhirOperationException}). */
    private static final String NO_METHOD_MATCHES = "HAPI-0303";

    /** Operations the FHIR R4 specification (and common servers) define; only these are named back. */
    static final Set<String> KNOWN_OPERATIONS = Set.of("$apply", "$binary-access-read", "$binary-access-write",
            "$care-gaps", "$closure", "$collect-data", "$conforms", "$convert", "$data-requirements", "$diff",
            "$docref", "$document", "$evaluate-measure", "$everything", "$expand", "$export", "$expunge", "$find",
            "$graphql", "$implements", "$import", "$lastn", "$lookup", "$match", "$member-match", "$meta",
            "$meta-add", "$meta-delete", "$populate", "$populatehtml", "$populatelink", "$process-message",
            "$questionnaire", "$reindex", "$stats", "$submit-data", "$subset", "$subsumes", "$transform",
            "$translate", "$validate", "$validate-code", "$versions");

    private static final FhirContext FHIR = FhirContext.forR4Cached();

    private final RecordGuard guard;

    UnsupportedInteractions(RecordGuard guard) {
        this.guard = guard;
    }

    static boolean isNoMethodMatches(InvalidRequestException e) {
        return e.getMessage() != null && e.getMessage().startsWith(NO_METHOD_MATCHES);
    }

    /** Decides the request on its type (403 if the caller has nothing there), then answers what is unsupported. */
    SafeFhirException refuse(RequestDetails request) {
        String type = request.getResourceName();
        if (type != null && served(type)) {
            boolean oneRecord = request.getId() != null && request.getId().hasIdPart();
            guard.scope(oneRecord ? Interaction.READ : Interaction.SEARCH, type, null, "/fhir/" + type);
        }
        return answer(request.getRequestType() == null ? "" : request.getRequestType().name(),
                request.getRequestPath(), request.getParameters() != null
                        && request.getParameters().containsKey("_query"));
    }

    /** 405 with {@code Allow} for a method a path served here does not take. */
    static SafeFhirException methodNotAllowed(String method, List<String> allowed) {
        SafeFhirException refusal = new SafeFhirException(405, IssueType.NOTSUPPORTED, "Method "
                + (HTTP_METHODS.contains(method) ? method : "(unknown)") + " is not allowed here; this path takes "
                + String.join(", ", allowed));
        refusal.addResponseHeader("Allow", String.join(", ", allowed));
        return refusal;
    }

    private static final Set<String> HTTP_METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
            "OPTIONS", "TRACE", "CONNECT");

    /** The methods whose use on a path is checked against {@link #allowed} (HEAD and OPTIONS are HAPI's). */
    static final Set<String> CHECKED_METHODS = Set.of("GET", "POST", "PUT", "PATCH", "DELETE");

    /** Whether a path served here does not take this method (a 405). */
    static boolean notAllowed(String method, String requestPath) {
        List<String> allowed = allowed(segments(requestPath));
        return !allowed.isEmpty() && !allowed.contains(method);
    }

    private static List<String> segments(String requestPath) {
        String path = requestPath == null ? "" : requestPath.split("\\?", 2)[0];
        return path.isEmpty() ? List.of() : List.of(path.split("/"));
    }

    /** The answer for a method and a path (relative to /fhir) that no handler serves. */
    static SafeFhirException answer(String method, String requestPath, boolean namedQuery) {
        if (namedQuery) {
            return new SafeFhirException(400, IssueType.NOTSUPPORTED, "Named queries (_query) are not supported");
        }
        List<String> segments = segments(requestPath);
        String first = segments.isEmpty() ? null : segments.get(0);
        Optional<String> operation = segments.isEmpty() ? Optional.empty()
                : Optional.of(segments.get(segments.size() - 1)).filter(last -> last.startsWith("$"));
        List<String> allowed = allowed(segments);
        if (!allowed.isEmpty() && !allowed.contains(method)) {
            return methodNotAllowed(method, allowed);
        }
        if (operation.isPresent()) {
            String named = KNOWN_OPERATIONS.contains(operation.get()) ? "Operation " + operation.get()
                    + " is not implemented" + (first != null && served(first) ? " on " + first : "")
                    : "This operation is not implemented";
            return new SafeFhirException(501, IssueType.NOTSUPPORTED,
                    named + "; GET /fhir/metadata lists the operations served");
        }
        if (segments.size() == 3 && served(first) && !segments.get(2).startsWith("_")) {
            return new SafeFhirException(501, IssueType.NOTSUPPORTED, "Compartment search (" + first
                    + "/[id]/[type]) is not implemented; search the type with the patient or subject parameter");
        }
        if (first != null && served(first) && segments.size() == 2 && segments.get(1).equals("_history")) {
            return new SafeFhirException(501, IssueType.NOTSUPPORTED, "History of " + first + " is not implemented");
        }
        if (!allowed.isEmpty()) {
            // a method the path takes, with parameters or a form no handler takes
            return new SafeFhirException(400, IssueType.NOTSUPPORTED,
                    "This interaction (method, path and parameters) is not supported");
        }
        return new SafeFhirException(501, IssueType.NOTSUPPORTED, "This interaction is not implemented; "
                + "GET /fhir/metadata lists the interactions served");
    }

    /** The methods a path takes here, empty where nothing is served at that path. */
    static List<String> allowed(List<String> segments) {
        if (segments.isEmpty()) {
            return List.of("GET", "POST"); // GET: the paging links (_getpages) of searches
        }
        String first = segments.get(0);
        if (segments.size() == 1) {
            return switch (first) {
                case "metadata", "_history" -> List.of("GET");
                default -> {
                    if (BreakGlassOperation.OPERATIONS.contains(first)) {
                        yield List.of("POST");
                    }
                    if (first.equals("AuditEvent")) {
                        yield List.of("GET");
                    }
                    yield ResourceTypes.names().contains(first) ? List.of("GET", "POST", "PUT", "PATCH", "DELETE")
                            : List.of();
                }
            };
        }
        if (!served(first)) {
            return List.of();
        }
        boolean records = ResourceTypes.names().contains(first);
        String second = segments.get(1);
        if (segments.size() == 2) {
            if (second.equals("_search")) {
                return List.of("GET", "POST");
            }
            if (second.equals("_history")) {
                return records ? List.of("GET") : List.of();
            }
            if (second.startsWith("$")) {
                return List.of();
            }
            return records ? List.of("GET", "PUT", "PATCH", "DELETE") : List.of();
        }
        if (!records) {
            return List.of();
        }
        String third = segments.get(2);
        if (segments.size() == 3 && third.equals("_history")) {
            return List.of("GET");
        }
        if (segments.size() == 4 && third.equals("_history")) {
            return List.of("GET");
        }
        if (segments.size() == 3 && first.equals("Patient") && third.equals(PatientEverything.OPERATION)) {
            return List.of("GET", "POST");
        }
        return List.of();
    }

    /**
     * The name of a search parameter that is not served, if the FHIR specification defines it for
     * this type (or for every type): then the refusal may name it; any other name is input.
     */
    static Optional<String> knownSearchParameter(String type, String name) {
        if (name == null || type == null) {
            return Optional.empty();
        }
        if (Set.of("_text", "_content", "_has", "_filter", "_list", "_tag", "_profile", "_security", "_source",
                "_type", "_contained", "_containedType", "_total").contains(name)) {
            return Optional.of(name);
        }
        try {
            RuntimeSearchParam param = FHIR.getResourceDefinition(type).getSearchParam(name);
            return Optional.ofNullable(param).map(RuntimeSearchParam::getName);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static boolean served(String type) {
        return ResourceTypes.names().contains(type) || type.equals("AuditEvent");
    }
}
