package health.carapace.signin.internal;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpHeaders;
import org.springframework.security.oauth2.server.resource.web.BearerTokenResolver;
import org.springframework.security.oauth2.server.resource.web.DefaultBearerTokenResolver;

/**
 * Takes the bearer token out of the {@code Authorization} header without a regular expression on
 * the common path. Spring's {@link DefaultBearerTokenResolver} matches every header against a
 * case-insensitive pattern, which over a 600-character token was 3% of the request threads' CPU on
 * a read (issue 13). Here a header of exactly the form {@code Bearer <b64token>} in plain ASCII
 * (RFC 6750 §2.1: {@code [A-Za-z0-9-._~+/]+=*}) is accepted by a loop, which returns what the
 * pattern's group would; any other header — absent, another scheme, a malformed or non-ASCII
 * token, a second space — goes to Spring's resolver unchanged, so every refusal (and every reason
 * for one) stays Spring's. The loop accepts only headers the pattern accepts, never more:
 * {@code BearerHeaderTest} compares both over the shapes that matter. Tokens in query strings or
 * form bodies stay refused, as with Spring's defaults.
 */
final class BearerHeader implements BearerTokenResolver {

    private static final String SCHEME = "bearer ";

    private final BearerTokenResolver spring = new DefaultBearerTokenResolver();

    @Override
    public String resolve(HttpServletRequest request) {
        String authorization = request.getHeader(HttpHeaders.AUTHORIZATION);
        if (authorization != null && isBearerToken(authorization)) {
            return authorization.substring(SCHEME.length());
        }
        return spring.resolve(request);
    }

    /** {@code Bearer } in any ASCII case, then one or more token characters, then any number of {@code =}. */
    static boolean isBearerToken(String header) {
        int length = header.length();
        if (length <= SCHEME.length()) {
            return false;
        }
        for (int i = 0; i < SCHEME.length(); i++) {
            char c = header.charAt(i);
            char lower = c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
            if (lower != SCHEME.charAt(i)) {
                return false;
            }
        }
        int i = SCHEME.length();
        while (i < length && isTokenChar(header.charAt(i))) {
            i++;
        }
        if (i == SCHEME.length()) {
            return false;
        }
        while (i < length && header.charAt(i) == '=') {
            i++;
        }
        return i == length;
    }

    private static boolean isTokenChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    }
}
