package health.carapace.records.internal;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import health.carapace.platform.logging.SafeMessage;
import health.carapace.platform.web.OperationOutcomes;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/**
 * A refusal whose message Carapace wrote and which holds no PHI: it is the only kind of error
 * message that reaches a client unchanged (see {@link ErrorSanitiser}).
 */
final class SafeFhirException extends BaseServerResponseException implements SafeMessage {

    SafeFhirException(int status, IssueType code, String message) {
        super(status, message, OperationOutcomes.of(code, message));
    }

    static SafeFhirException badRequest(String message) {
        return new SafeFhirException(400, IssueType.INVALID, message);
    }

    /** A body that does not fit the schema, with the element's path in {@code issue.expression} when known. */
    static SafeFhirException structure(String message, String expression) {
        SafeFhirException refusal = new SafeFhirException(400, IssueType.STRUCTURE, message);
        if (expression != null) {
            ((org.hl7.fhir.r4.model.OperationOutcome) refusal.getOperationOutcome()).getIssueFirstRep()
                    .addExpression(expression);
        }
        return refusal;
    }

    static SafeFhirException notFound() {
        return new SafeFhirException(404, IssueType.NOTFOUND, "Resource not found");
    }

    /** The record's patient compartment was crypto-shredded: its data keys no longer exist. */
    static SafeFhirException shredded() {
        return new SafeFhirException(410, IssueType.DELETED, SHREDDED_MESSAGE);
    }

    static final String SHREDDED_MESSAGE = "The record was destroyed by crypto-shredding (disposal after its "
            + "retention period): its patient's data keys no longer exist, so it can never be read or changed";

    static SafeFhirException gone() {
        return new SafeFhirException(410, IssueType.DELETED, "The resource has been deleted");
    }
}
