package health.carapace.platform.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Locale;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * Refuses with 400, before any other filter reads the path, a request whose raw path is not in
 * canonical form: dot segments ({@code .} or {@code ..}), empty segments ({@code //}), path
 * parameters ({@code ;}), backslashes, any of these (or {@code %} itself) percent-encoded, or an
 * unreserved character percent-encoded ({@code /%66hir}: RFC 3986 §6.2.2.2 makes it the same path,
 * and Spring's request-path parsing threw on it).
 *
 * <p>Tomcat chooses the servlet from the normalised path, while filters see the raw one. So
 * {@code /health/../fhir/Patient} went to the FHIR servlet's filter chain, where Spring's
 * request-path parsing (which runs before Spring Security's firewall) found that the raw path
 * does not start with the servlet path {@code /fhir} and threw: a 500 and an ERROR stack trace
 * that any client, without a token, could cause at will. Refusing such paths first also means
 * that no route, and no access rule, ever has to reason about two spellings of one path. No
 * Carapace route needs them: resource ids are UUIDs and search values travel in the query.
 */
@Component
@Order(FilterOrder.CANONICAL_PATHS)
public class CanonicalPaths extends RequestFilter {

    /**
     * Percent-encoded '.', '/', '\', ';' and '%' (a second spelling of a character refused below),
     * and percent-encoded unreserved characters (letters, digits, '-', '_', '~': a second spelling
     * of the path itself).
     */
    private static final Pattern ENCODED_SEPARATOR =
            Pattern.compile("%(2e|2f|5c|3b|25|3[0-9]|4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]|2d|5f|7e)");

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (!isCanonical(request.getRequestURI())) {
            OperationOutcomes.write(response, HttpServletResponse.SC_BAD_REQUEST, IssueType.INVALID,
                    "The request path is not in canonical form (dot or empty segments, ';', '\\' or needless percent-encoding)");
            return;
        }
        chain.doFilter(request, response);
    }

    static boolean isCanonical(String rawPath) {
        if (rawPath == null || !rawPath.startsWith("/")) {
            return false;
        }
        if (rawPath.indexOf(';') >= 0 || rawPath.indexOf('\\') >= 0
                || ENCODED_SEPARATOR.matcher(rawPath.toLowerCase(Locale.ROOT)).find()) {
            return false;
        }
        String[] segments = rawPath.substring(1).split("/", -1);
        for (int i = 0; i < segments.length; i++) {
            String segment = segments[i];
            boolean last = i == segments.length - 1;
            // An empty last segment is a trailing slash; anywhere else it is '//'.
            if ((segment.isEmpty() && !last) || segment.equals(".") || segment.equals("..")) {
                return false;
            }
        }
        return true;
    }
}
