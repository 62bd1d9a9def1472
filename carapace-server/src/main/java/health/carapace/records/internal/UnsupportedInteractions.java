package health.carapace.records.internal;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import health.carapace.access.Interaction;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/**
 * Answers a FHIR request that no handler serves: a named query ({@code _query}), the history of
 * a type or of the whole server, an operation other than {@code $break-glass} and
 * {@code $break-glass-close} and the {@link InstanceOperations} other modules serve
 * ({@code $everything}, {@code $meta}, {@code $validate}, ...).
 *
 * <p>HAPI finds that no method matches before {@link AccessEnforcement} runs, and answered with a
 * 400 that {@link ErrorSanitiser} turned into "malformed body": the same for a caller who may not
 * touch the type at all and one who may, and misleading for both. Here a request on a type is
 * decided first, like the search or read it resembles (403, audited, for a caller with nothing
 * on the type); then it is a 400 {@code not-supported} that names the kind of interaction, never
 * the request's own words.
 */
final class UnsupportedInteractions {

    /** HAPI's code for "no method matches" ({@code RestfulServer.throwUnknownFhirOperationException}). */
    private static final String NO_METHOD_MATCHES = "HAPI-0303";

    private final RecordGuard guard;

    UnsupportedInteractions(RecordGuard guard) {
        this.guard = guard;
    }

    static boolean isNoMethodMatches(InvalidRequestException e) {
        return e.getMessage() != null && e.getMessage().startsWith(NO_METHOD_MATCHES);
    }

    /** Decides the request on its type (403 if the caller has nothing there), else the honest 400. */
    SafeFhirException refuse(RequestDetails request) {
        String type = request.getResourceName();
        if (type != null && (ResourceTypes.names().contains(type) || type.equals("AuditEvent"))) {
            boolean oneRecord = request.getId() != null && request.getId().hasIdPart();
            guard.scope(oneRecord ? Interaction.READ : Interaction.SEARCH, type, null, "/fhir/" + type);
        }
        return new SafeFhirException(400, IssueType.NOTSUPPORTED, message(request));
    }

    private static String message(RequestDetails request) {
        String operation = request.getOperation();
        if (request.getParameters() != null && request.getParameters().containsKey("_query")) {
            return "Named queries (_query) are not supported";
        }
        if (operation != null && operation.startsWith("$")) {
            return "This operation is not supported; GET /fhir/metadata lists the operations served";
        }
        return "This interaction (method, path and parameters) is not supported";
    }
}
