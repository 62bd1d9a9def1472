package health.carapace.console.internal;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.security.SecureRandom;
import java.util.Base64;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.security.web.csrf.CsrfTokenRepository;
import org.springframework.security.web.csrf.DefaultCsrfToken;

/**
 * The console's CSRF tokens for Spring Security's check: one per console session, made when the
 * session is, kept sealed with its tokens. Pages carry it in their forms ({@code _csrf}) and htmx
 * sends it as the {@code X-CSRF-TOKEN} header (masked per page, as Spring Security does). A
 * request without a console session has no token to match, so every change it attempts is refused.
 */
final class SessionCsrfTokens implements CsrfTokenRepository {

    static final String HEADER = "X-CSRF-TOKEN";
    static final String PARAMETER = "_csrf";
    private static final SecureRandom RANDOM = new SecureRandom();

    @Override
    public CsrfToken generateToken(HttpServletRequest request) {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return new DefaultCsrfToken(HEADER, PARAMETER, Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
    }

    /** Nothing to save: a session's token is made with the session; without a session, no token is kept. */
    @Override
    public void saveToken(CsrfToken token, HttpServletRequest request, HttpServletResponse response) {
    }

    @Override
    public CsrfToken loadToken(HttpServletRequest request) {
        return request.getAttribute(ConsoleSignInFilter.SESSION) instanceof ConsoleSessions.Session session
                ? new DefaultCsrfToken(HEADER, PARAMETER, session.tokens().csrfToken())
                : null;
    }
}
