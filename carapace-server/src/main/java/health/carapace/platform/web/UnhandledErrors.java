package health.carapace.platform.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.apache.catalina.connector.ClientAbortException;
import org.apache.tomcat.util.http.InvalidParameterException;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * No exception reaches the container. Tomcat logs one that does through its own logger, with the
 * exception's message (driver and parser messages echo input) built into the log text, and then
 * renders an error page through a second pass of the filters. Here it is logged once through the
 * redacting format (class and frames, no message) and answered with a 500 OperationOutcome.
 */
@Component
@Order(FilterOrder.UNHANDLED_ERRORS)
public class UnhandledErrors extends RequestFilter {

    private static final Logger log = LoggerFactory.getLogger(UnhandledErrors.class);

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        try {
            chain.doFilter(request, response);
        } catch (ClientAbortException gone) {
            // The client closed the connection: nobody to answer, nothing wrong with the server.
        } catch (IOException | ServletException | RuntimeException e) {
            if (isParameterParsing(e)) {
                refuseBadParameters(response);
            } else {
                answer(response, e);
            }
        }
    }

    /**
     * Tomcat's refusal of parameters it cannot decode ({@link DecodableParameters} decodes first, so
     * this is a second line): bad input, not a server fault. Logged as a WARN without the exception,
     * whose message can quote the request.
     */
    static boolean isParameterParsing(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InvalidParameterException) {
                return true;
            }
        }
        return false;
    }

    private static void refuseBadParameters(HttpServletResponse response) throws IOException {
        log.warn("Refused a request whose parameters the container could not decode");
        OperationOutcomes.replace(response, HttpServletResponse.SC_BAD_REQUEST, IssueType.INVALID,
                "The request's parameters could not be decoded");
    }

    static void answer(HttpServletResponse response, Throwable e) throws IOException {
        if (DependencyOutage.causedBy(e)) {
            log.warn("A request failed because a dependency is unreachable ({})", e.getClass().getSimpleName());
            OperationOutcomes.replace(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE, IssueType.TRANSIENT,
                    DependencyOutage.MESSAGE);
            return;
        }
        log.error("A request failed with an unhandled exception", e);
        OperationOutcomes.replace(response, HttpServletResponse.SC_INTERNAL_SERVER_ERROR, IssueType.EXCEPTION,
                "The server could not answer this request");
    }
}
