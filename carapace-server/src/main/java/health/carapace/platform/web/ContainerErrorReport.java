package health.carapace.platform.web;

import health.carapace.platform.logging.RequestIds;
import java.io.IOException;
import java.util.UUID;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Replaces Tomcat's HTML error page. Tomcat refuses some requests before any filter or servlet
 * runs (an encoded slash, backslash or NUL in the path, an over-long request line or header, an
 * HTTP/1.1 request without {@code Host}, TRACE) and then asks the host's error report valve for a
 * body; it also asks when an exception escapes the application. This valve answers all of them
 * as Carapace answers everything else: a FHIR OperationOutcome in JSON that names the class of
 * problem without echoing the request, a request id, and the {@link SecurityHeaders}.
 *
 * <p>Tomcat creates the valve itself (by class name, see {@link ContainerCustomization}), so it
 * has a public no-argument constructor and no Spring dependencies.
 */
public class ContainerErrorReport extends ErrorReportValve {

    private static final Logger log = LoggerFactory.getLogger(ContainerErrorReport.class);

    public ContainerErrorReport() {
        setShowReport(false);
        setShowServerInfo(false);
    }

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        boolean ownId = RequestIds.current() == null;
        if (ownId) {
            String id = UUID.randomUUID().toString();
            MDC.put(RequestIds.MDC_KEY, id);
            response.setHeader(RequestIds.HEADER, id);
        }
        try {
            if (throwable != null) {
                if (status >= 500) {
                    log.error("An exception reached the container; answered with {}", status, throwable);
                } else {
                    // A request the container could not parse (a raw non-ASCII byte in the request
                    // line, say): the client's error, which anyone can send without a token, so one
                    // line without a stack trace rather than an alert-raising ERROR per request.
                    log.warn("The container refused a request it could not parse; answered with {}", status);
                }
            }
            OperationOutcomes.write(response, status, issueType(status), message(status));
        } catch (IOException | IllegalStateException e) {
            // The client has gone or the response is already committed: nothing more can be said.
        } finally {
            if (ownId) {
                MDC.remove(RequestIds.MDC_KEY);
            }
        }
    }

    static IssueType issueType(int status) {
        return switch (status) {
            case 401 -> IssueType.LOGIN;
            case 403 -> IssueType.FORBIDDEN;
            case 404 -> IssueType.NOTFOUND;
            case 405, 501 -> IssueType.NOTSUPPORTED;
            case 408, 413, 414, 431 -> IssueType.TOOCOSTLY;
            default -> status >= 500 ? IssueType.EXCEPTION : IssueType.INVALID;
        };
    }

    static String message(int status) {
        return switch (status) {
            case 400 -> "The request is malformed: its path, request line or headers were refused"
                    + " (an encoded '/', '\\' or NUL in the path, an over-long line or header, or no Host header)";
            case 404 -> "Nothing is served at this path";
            case 405 -> "This HTTP method is not supported here";
            case 408 -> "The request was not received in time";
            case 413 -> "The request is too large";
            case 414 -> "The request URI is too long";
            case 431 -> "The request headers are too large";
            case 505 -> "This HTTP version is not supported";
            default -> status >= 500 ? "The server could not answer this request" : "The request was refused";
        };
    }
}
