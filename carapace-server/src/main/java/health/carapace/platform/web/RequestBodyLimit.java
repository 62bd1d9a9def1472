package health.carapace.platform.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * Refuses request bodies over {@code carapace.fhir.max-body-bytes} with 413 before anything
 * parses them. A declared length is checked up front; a chunked body is read up to the limit
 * and refused as soon as it passes it.
 *
 * <p>A compressed body ({@code Content-Encoding} other than {@code identity}) is refused with
 * 415 before any of it is read: its declared length says nothing about what it expands to (HAPI
 * inflated gzip bodies whole into memory, so a 1 MB body could become 1 GiB and a 500). FHIR
 * clients rarely compress requests; responses may still be compressed.
 */
@Component
@Order(FilterOrder.REQUEST_BODY_LIMIT)
public class RequestBodyLimit extends RequestFilter {

    private final long maxBytes;

    public RequestBodyLimit(@Value("${carapace.fhir.max-body-bytes}") long maxBytes) {
        this.maxBytes = maxBytes;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (compressed(request)) {
            OperationOutcomes.write(response, HttpServletResponse.SC_UNSUPPORTED_MEDIA_TYPE, IssueType.NOTSUPPORTED,
                    "Compressed request bodies are not accepted: send the body without Content-Encoding");
            return;
        }
        long declared = request.getContentLengthLong();
        if (declared > maxBytes) {
            refuse(response);
            return;
        }
        if (declared < 0 && hasBody(request)) {
            byte[] body = request.getInputStream().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
            if (body.length > maxBytes) {
                refuse(response);
                return;
            }
            chain.doFilter(new BufferedBody(request, body), response);
            return;
        }
        chain.doFilter(request, response);
    }

    private static boolean compressed(HttpServletRequest request) {
        var encodings = request.getHeaders("Content-Encoding");
        while (encodings != null && encodings.hasMoreElements()) {
            for (String coding : encodings.nextElement().split(",")) {
                if (!coding.isBlank() && !coding.strip().equalsIgnoreCase("identity")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean hasBody(HttpServletRequest request) {
        String method = request.getMethod();
        return "POST".equals(method) || "PUT".equals(method) || "PATCH".equals(method);
    }

    private void refuse(HttpServletResponse response) throws IOException {
        OperationOutcomes.write(response, HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE, IssueType.TOOLONG,
                "The request body is larger than the limit of " + maxBytes + " bytes");
    }

    private static final class BufferedBody extends HttpServletRequestWrapper {
        private final byte[] body;

        BufferedBody(HttpServletRequest request, byte[] body) {
            super(request);
            this.body = body;
        }

        @Override
        public int getContentLength() {
            return body.length;
        }

        @Override
        public long getContentLengthLong() {
            return body.length;
        }

        @Override
        public ServletInputStream getInputStream() {
            return new BodyStream(body);
        }
    }
}
