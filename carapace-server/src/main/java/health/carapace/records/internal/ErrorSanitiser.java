package health.carapace.records.internal;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import health.carapace.audit.AuditUnavailableException;
import health.carapace.crypto.KeyDestroyedException;
import health.carapace.crypto.KeyMissingException;
import health.carapace.crypto.KeyUnavailableException;
import health.carapace.crypto.RecordIntegrityException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replaces every error message that Carapace did not write itself. HAPI's parser, for example,
 * quotes invalid values in its messages ("Invalid attribute value ..."), and those values are
 * PHI. The status code is kept; the message becomes a fixed sentence for that status.
 */
@Interceptor
final class ErrorSanitiser {

    private static final Logger log = LoggerFactory.getLogger(ErrorSanitiser.class);

    @Hook(Pointcut.SERVER_PRE_PROCESS_OUTGOING_EXCEPTION)
    public BaseServerResponseException sanitise(RequestDetails request, Throwable error,
            HttpServletRequest servletRequest, HttpServletResponse servletResponse) {
        if (error instanceof SafeFhirException safe) {
            return safe;
        }
        NamedParseErrors.Problem parse = (NamedParseErrors.Problem) causeOfType(error, NamedParseErrors.Problem.class);
        if (parse == null && error instanceof ca.uhn.fhir.rest.server.exceptions.InvalidRequestException) {
            parse = NamedParseErrors.behind(error.getMessage()).orElse(null);
        }
        if (parse != null) {
            if (parse.expression() == null && parse.getMessage().startsWith(NamedParseErrors.UNKNOWN_ELEMENT)
                    && request != null) {
                // HAPI gives no location for an unknown element: find it in the body by schema path
                java.util.Optional<String> path = unknownElementPath(request);
                if (path.isPresent()) {
                    return SafeFhirException.structure(NamedParseErrors.UNKNOWN_ELEMENT + " in " + path.get()
                            + ": the type does not define it (GET /fhir/metadata lists the served types; the FHIR R4 "
                            + "specification defines their elements)", path.get());
                }
            }
            if (parse.expression() != null && !parse.expression().contains(".") && request != null) {
                // HAPI names only the element (birthDate): its path in the body, by schema
                String element = parse.expression();
                java.util.Optional<String> path = locating(() -> body(request).flatMap(body -> UnknownElements.r4()
                        .locateNamed(body.text(), body.xml(), element)));
                if (path.isPresent()) {
                    return SafeFhirException.structure(parse.getMessage().replace(" " + element, " " + path.get()),
                            path.get());
                }
            }
            return SafeFhirException.structure(parse.getMessage(), parse.expression());
        }
        if (causeOfType(error, AuditUnavailableException.class) != null) {
            return new SafeFhirException(503, IssueType.TRANSIENT,
                    "The audit trail is unavailable, so the request was not carried out; try again later");
        }
        if (causeOfType(error, KeyDestroyedException.class) != null) {
            // The keyring's own tombstone: reached only in a race with the PHI database's (a write
            // that looked up the compartment just before it was shredded).
            return SafeFhirException.shredded();
        }
        if (causeOfType(error, KeyMissingException.class) != null) {
            // Not a shredding (no tombstone says so) and not an outage that passes by itself: the keyring
            // lacks a key the records need (ADR 0049). 500, not 410 (the record may come back with the
            // right keyring) and not 503 (retrying will not help until an operator acts). One line, no id.
            log.error("A record's data key is missing from the keyring and no shredding record explains it: the"
                    + " keyring may have been restored from a backup older than the PHI database; the record was"
                    + " not erased (docs/RELIABILITY.md, \"A data key is missing\")");
            return new SafeFhirException(500, IssueType.EXCEPTION, KEY_MISSING_MESSAGE);
        }
        Throwable keyProblem = causeOfType(error, KeyUnavailableException.class);
        if (keyProblem != null) {
            log.error("A record key is unavailable", keyProblem);
            return new SafeFhirException(503, IssueType.TRANSIENT,
                    "A key needed for this record is unavailable; the record cannot be decrypted");
        }
        if (health.carapace.platform.web.DependencyOutage.causedBy(error)) {
            log.warn("A request failed because a dependency is unreachable ({})", error.getClass().getSimpleName());
            return new SafeFhirException(503, IssueType.TRANSIENT, health.carapace.platform.web.DependencyOutage.MESSAGE);
        }
        String lockConflict = lockConflict(error);
        if (lockConflict != null) {
            // The lock order (ADR 0035) leaves no cycle among record writes; this is the database's
            // own last resort (a deadlock with something outside that order, or a lock wait bounded
            // by lock_timeout). The transaction was rolled back whole: the client may retry.
            log.warn("A write was rolled back after a lock conflict (SQLSTATE {})", lockConflict);
            return new SafeFhirException(409, IssueType.TRANSIENT,
                    "The request met a concurrent change of the same records and was not carried out; try again");
        }
        Throwable integrity = causeOfType(error, RecordIntegrityException.class);
        if (integrity != null) {
            log.error("A stored record failed authentication", integrity);
            return new SafeFhirException(500, IssueType.SECURITY,
                    "A stored record failed its integrity check and was not returned");
        }
        java.util.regex.Matcher invalidValue = error == null || error.getMessage() == null ? null
                : INVALID_VALUE.matcher(error.getMessage());
        if (invalidValue != null && invalidValue.find() && request != null) {
            // HAPI names the element whose value did not parse (never the value here): find its path
            java.util.Optional<String> path = locating(() -> body(request).flatMap(body -> UnknownElements.r4()
                    .locateNamed(body.text(), body.xml(), invalidValue.group(1))));
            if (path.isPresent()) {
                return SafeFhirException.structure("Invalid value in " + path.get()
                        + " (not valid for the element's type)", path.get());
            }
        }
        if (boundParameterRefused(error)) {
            // a parameter HAPI binds itself (_since, _count of an operation) that does not parse: the client's error
            return new SafeFhirException(400, IssueType.INVALID, "A parameter has an invalid value");
        }
        int status = error instanceof BaseServerResponseException known ? known.getStatusCode() : 500;
        if (status >= 500) {
            log.error("Request failed with an internal error", error);
        }
        return new SafeFhirException(status, issueType(status), genericMessage(status));
    }

    static final String KEY_MISSING_MESSAGE = "A key needed for this record is unavailable: the key store does not"
            + " hold it, though the record was not erased; an operator must restore it";

    static String genericMessage(int status) {
        return switch (status) {
            case 400 -> "The request is invalid: malformed body, unknown element or invalid value";
            case 401 -> "A valid bearer token is required";
            case 403 -> "Access denied";
            case 404 -> "Not found: unknown resource type or id";
            case 405 -> "This interaction is not supported";
            case 406 -> "The requested format is not supported";
            case 409 -> "Conflict with the current state of the resource";
            case 410 -> "The resource has been deleted";
            case 412 -> "Version conflict";
            case 413 -> "The request body is too large";
            case 415 -> "Unsupported content type: send application/fhir+json or application/fhir+xml";
            case 422 -> "The resource is not valid";
            default -> status >= 500 ? "Internal server error" : "The request cannot be processed";
        };
    }

    private static IssueType issueType(int status) {
        return switch (status) {
            case 401 -> IssueType.LOGIN;
            case 403 -> IssueType.FORBIDDEN;
            case 404 -> IssueType.NOTFOUND;
            case 405 -> IssueType.NOTSUPPORTED;
            case 409, 412 -> IssueType.CONFLICT;
            case 410 -> IssueType.DELETED;
            case 413 -> IssueType.TOOLONG;
            default -> status >= 500 ? IssueType.EXCEPTION : IssueType.INVALID;
        };
    }

    /** A value that HAPI's parameter binders could not parse (they throw DataFormatException, answered as 500). */
    private static boolean boundParameterRefused(Throwable error) {
        Throwable format = causeOfType(error, ca.uhn.fhir.parser.DataFormatException.class);
        if (format == null) {
            return false;
        }
        for (StackTraceElement frame : format.getStackTrace()) {
            if (frame.getClassName().startsWith("ca.uhn.fhir.rest.param.binder.")
                    || frame.getClassName().equals("ca.uhn.fhir.rest.server.method.SearchParameter")
                    || frame.getClassName().equals("ca.uhn.fhir.rest.server.method.OperationParameter")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The SQLSTATE of a deadlock (40P01), serialization failure (40001) or lock wait refused
     * (55P03) behind {@code error}, or null. Only the state is read, never a message.
     */
    private static String lockConflict(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof java.sql.SQLException sql && sql.getSQLState() != null
                    && java.util.Set.of("40P01", "40001", "55P03").contains(sql.getSQLState())) {
                return sql.getSQLState();
            }
        }
        return null;
    }

    private static Throwable causeOfType(Throwable error, Class<? extends Throwable> type) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return t;
            }
        }
        return null;
    }

    /** HAPI's words for a value that did not parse; the element name is one its parser matched. */
    static final java.util.regex.Pattern INVALID_VALUE =
            java.util.regex.Pattern.compile("\\[element=\"([a-z][A-Za-z0-9]{0,63})\"\\] Invalid attribute value");

    private record Body(String text, boolean xml) {}

    private static java.util.Optional<Body> body(RequestDetails request) {
        String method = request.getRequestType() == null ? "" : request.getRequestType().name();
        if (!method.equals("POST") && !method.equals("PUT")) {
            return java.util.Optional.empty();
        }
        byte[] body = request.loadRequestContents();
        if (body == null || body.length == 0) {
            return java.util.Optional.empty();
        }
        boolean xml = ca.uhn.fhir.rest.server.RestfulServerUtils.determineRequestEncodingNoDefault(request)
                == ca.uhn.fhir.rest.api.EncodingEnum.XML;
        return java.util.Optional.of(new Body(new String(body, java.nio.charset.StandardCharsets.UTF_8), xml));
    }

    private static java.util.Optional<String> unknownElementPath(RequestDetails request) {
        return locating(() -> body(request).flatMap(body -> UnknownElements.r4().locate(body.text(), body.xml())));
    }

    /** A path found, or none: finding it must never turn a 400 into a 500. */
    private static java.util.Optional<String> locating(java.util.function.Supplier<java.util.Optional<String>> finder) {
        try {
            return finder.get();
        } catch (RuntimeException | LinkageError e) {
            log.warn("The path of a refused element could not be found ({})", e.getClass().getSimpleName());
            return java.util.Optional.empty();
        }
    }
}
