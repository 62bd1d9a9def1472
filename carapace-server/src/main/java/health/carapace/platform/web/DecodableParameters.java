package health.carapace.platform.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * Decodes the query string and any {@code application/x-www-form-urlencoded} body once, strictly,
 * before anything reads a parameter: every {@code %} followed by two hex digits, the decoded bytes
 * valid UTF-8 (no overlong forms, no surrogates), a form's {@code charset} absent or UTF-8, at most
 * {@link #MAX_FIELDS} fields. A request that fails is refused with 400 and an OperationOutcome.
 *
 * <p>Tomcat decodes parameters lazily, on the first {@code getParameter} call from whichever
 * filter comes first (Spring Security's CSRF check, the authorization server's converters, HAPI),
 * and on a malformed one it throws: that was a 500 and an ERROR stack trace for anyone, without a
 * token, at will. It also turned invalid UTF-8 in the query into U+FFFD silently, so two spellings
 * reached a search. Here one decoder, with one set of rules, runs first; the form body is read here
 * (after {@link RequestBodyLimit} has bounded it) and served again to whoever reads it later.
 *
 * <p>HTML form pages ({@link FormPages}, the sign-in pages) cannot show an OperationOutcome to a
 * person. For them an undecodable request goes on with only its well-formed fields (the CSRF token
 * among them), marked {@link #undecodable(ServletRequest) undecodable}, and the pages refuse it with
 * their ordinary answer to a bad field.
 */
@Component
@Order(FilterOrder.DECODABLE_PARAMETERS)
public class DecodableParameters extends RequestFilter {

    /** As many fields as Tomcat's default {@code maxParameterCount}, far more than any Carapace route reads. */
    static final int MAX_FIELDS = 1000;

    /** Paths served by HTML form pages, which answer an undecodable request themselves. */
    public interface FormPages {
        boolean matches(HttpServletRequest request);
    }

    private final ObjectProvider<FormPages> formPages;

    public DecodableParameters(ObjectProvider<FormPages> formPages) {
        this.formPages = formPages;
    }

    /** True if {@code request} (or a request it wraps) reached a form page with undecodable fields. */
    public static boolean undecodable(ServletRequest request) {
        for (ServletRequest r = request; r != null; r = r instanceof ServletRequestWrapper w ? w.getRequest() : null) {
            if (r instanceof DecodedFields decoded && decoded.undecodable) {
                return true;
            }
        }
        return false;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Fields fields = new Fields();
        fields.add(request.getQueryString());
        byte[] body = null;
        if (isForm(request)) {
            if (!utf8OrNoCharset(request.getContentType())) {
                fields.undecodable = true;
            }
            body = request.getInputStream().readAllBytes();
            fields.add(new String(body, StandardCharsets.ISO_8859_1));
        } else if (!fields.undecodable) {
            // Nothing to serve differently: Tomcat decodes the (now known good) query the same way.
            chain.doFilter(request, response);
            return;
        }
        if (fields.undecodable && !isFormPage(request)) {
            OperationOutcomes.write(response, HttpServletResponse.SC_BAD_REQUEST, IssueType.INVALID,
                    "The query string or form body is not valid percent-encoded UTF-8"
                            + " (application/x-www-form-urlencoded, charset UTF-8)");
            return;
        }
        chain.doFilter(new DecodedFields(request, fields, body), response);
    }

    private boolean isFormPage(HttpServletRequest request) {
        return formPages.orderedStream().anyMatch(pages -> pages.matches(request));
    }

    /** Tomcat reads form parameters from POST bodies only (its {@code parseBodyMethods}); so does this. */
    private static boolean isForm(HttpServletRequest request) {
        String type = request.getContentType();
        return "POST".equals(request.getMethod()) && type != null
                && type.split(";", 2)[0].strip().equalsIgnoreCase("application/x-www-form-urlencoded");
    }

    static boolean utf8OrNoCharset(String contentType) {
        String[] parts = contentType.split(";");
        for (int i = 1; i < parts.length; i++) {
            String[] parameter = parts[i].split("=", 2);
            if (parameter[0].strip().equalsIgnoreCase("charset")) {
                String value = parameter.length < 2 ? "" : parameter[1].strip();
                if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                    value = value.substring(1, value.length() - 1);
                }
                if (!value.equalsIgnoreCase("utf-8")) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Decoded fields in arrival order (query first, then body, as Tomcat orders them); well-formed ones only. */
    static final class Fields {
        final Map<String, List<String>> values = new LinkedHashMap<>();
        boolean undecodable;
        private int count;

        /** Adds the fields of a raw {@code application/x-www-form-urlencoded} string (a query or a body). */
        void add(String raw) {
            if (raw == null || raw.isEmpty()) {
                return;
            }
            for (String pair : raw.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                if (++count > MAX_FIELDS) {
                    undecodable = true;
                    return;
                }
                int equals = pair.indexOf('=');
                Optional<String> name = decode(equals < 0 ? pair : pair.substring(0, equals));
                Optional<String> value = decode(equals < 0 ? "" : pair.substring(equals + 1));
                if (name.isEmpty() || value.isEmpty()) {
                    undecodable = true;
                    continue;
                }
                values.computeIfAbsent(name.get(), n -> new ArrayList<>()).add(value.get());
            }
        }

        /** Percent-decodes (with '+' as space) and then decodes the bytes as strict UTF-8; empty if either fails. */
        static Optional<String> decode(String raw) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
            for (int i = 0; i < raw.length(); i++) {
                char c = raw.charAt(i);
                if (c == '%') {
                    if (i + 2 >= raw.length()) {
                        return Optional.empty();
                    }
                    int high = Character.digit(raw.charAt(i + 1), 16);
                    int low = Character.digit(raw.charAt(i + 2), 16);
                    if (high < 0 || low < 0) {
                        return Optional.empty();
                    }
                    bytes.write(high << 4 | low);
                    i += 2;
                } else if (c == '+') {
                    bytes.write(' ');
                } else if (c > 0xFF) {
                    return Optional.empty();
                } else {
                    bytes.write(c);
                }
            }
            CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
            try {
                CharBuffer decoded = utf8.decode(ByteBuffer.wrap(bytes.toByteArray()));
                return Optional.of(decoded.toString());
            } catch (CharacterCodingException e) {
                return Optional.empty();
            }
        }
    }

    /** Serves the fields decoded here, and the form body again, whoever asks later. */
    private static final class DecodedFields extends HttpServletRequestWrapper {
        private final Map<String, String[]> parameters;
        private final byte[] body;
        private final boolean undecodable;

        DecodedFields(HttpServletRequest request, Fields fields, byte[] body) {
            super(request);
            Map<String, String[]> map = new LinkedHashMap<>();
            fields.values.forEach((name, values) -> map.put(name, values.toArray(String[]::new)));
            this.parameters = Collections.unmodifiableMap(map);
            this.body = body;
            this.undecodable = fields.undecodable;
        }

        @Override
        public String getParameter(String name) {
            String[] values = parameters.get(name);
            return values == null ? null : values[0];
        }

        @Override
        public Map<String, String[]> getParameterMap() {
            return parameters;
        }

        @Override
        public Enumeration<String> getParameterNames() {
            return Collections.enumeration(parameters.keySet());
        }

        @Override
        public String[] getParameterValues(String name) {
            String[] values = parameters.get(name);
            return values == null ? null : values.clone();
        }

        @Override
        public String getQueryString() {
            // A form page never sees the raw text of an undecodable request.
            return undecodable ? null : super.getQueryString();
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (body == null) {
                return super.getInputStream();
            }
            return new BodyStream(body);
        }

        @Override
        public BufferedReader getReader() throws IOException {
            if (body == null) {
                return super.getReader();
            }
            return new BufferedReader(new InputStreamReader(getInputStream(), StandardCharsets.UTF_8));
        }
    }
}
