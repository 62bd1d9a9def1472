package health.carapace.signin.internal;

import health.carapace.platform.web.DecodableParameters;
import health.carapace.platform.web.RequestFilter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Collections;
import java.util.Enumeration;
import java.util.Map;

/**
 * Checks every field of every sign-in request (form and query, names and values, whichever page)
 * before the pages see it: no control character (NUL included), no unpaired surrogate, no
 * over-long value, not too many fields. A request that fails is passed on as if it had no fields
 * at all, so each page refuses it through its ordinary path, with the same page, message, audit,
 * throttling and password-hash cost as a wrong password: an attacker learns nothing from the
 * difference, and the value never reaches a lookup, a log or the database (PostgreSQL refuses a
 * NUL in text with an exception that once escaped the sign-in pages).
 */
final class SignInFields extends RequestFilter {

    /** Longer than any password the pages accept ({@link LoginPages}: 1,024 characters). */
    static final int MAX_VALUE = 1024;
    static final int MAX_NAME = 64;
    static final int MAX_FIELDS = 16;

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        // An undecodable query or form (invalid percent-encoding or UTF-8) fails like a bad field.
        boolean acceptable = !DecodableParameters.undecodable(request) && acceptable(request.getParameterMap());
        chain.doFilter(acceptable ? request : withoutFields(request), response);
    }

    static boolean acceptable(Map<String, String[]> fields) {
        if (fields.size() > MAX_FIELDS) {
            return false;
        }
        for (Map.Entry<String, String[]> field : fields.entrySet()) {
            if (!acceptable(field.getKey(), MAX_NAME) || field.getValue().length > 1) {
                return false;
            }
            for (String value : field.getValue()) {
                if (!acceptable(value, MAX_VALUE)) {
                    return false;
                }
            }
        }
        return true;
    }

    static boolean acceptable(String value, int maxLength) {
        if (value == null) {
            return true;
        }
        if (value.length() > maxLength) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isISOControl(c)) {
                return false;
            }
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= value.length() || !Character.isLowSurrogate(value.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    private static HttpServletRequest withoutFields(HttpServletRequest request) {
        return new HttpServletRequestWrapper(request) {
            @Override
            public String getParameter(String name) {
                return null;
            }

            @Override
            public Map<String, String[]> getParameterMap() {
                return Map.of();
            }

            @Override
            public Enumeration<String> getParameterNames() {
                return Collections.emptyEnumeration();
            }

            @Override
            public String[] getParameterValues(String name) {
                return null;
            }

            @Override
            public String getQueryString() {
                return null;
            }
        };
    }
}
