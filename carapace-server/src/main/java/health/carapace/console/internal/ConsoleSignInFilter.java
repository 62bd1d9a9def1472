package health.carapace.console.internal;

import health.carapace.access.Caller;
import health.carapace.access.Callers;
import health.carapace.audit.AuditContext;
import health.carapace.console.ConsoleApp;
import health.carapace.platform.web.RequestFilter;
import health.carapace.signin.AccessTokenCallers;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;

/**
 * Who is using the console, on every request to it: the browser's console session (its cookie),
 * its access token refreshed when it runs short, and the caller the token speaks for now, as the
 * API would resolve it ({@link AccessTokenCallers}: revoked, signed out, disabled, idle: no caller).
 * Without one, a page view starts a sign-in through the authorization server; anything else (a
 * form, an htmx request) is refused with 401, never replayed after a sign-in.
 *
 * <p>Stands before the CSRF check in the console's chain, so that the check finds the session's
 * token ({@link SessionCsrfTokens}).
 */
final class ConsoleSignInFilter extends RequestFilter {

    /** Request attribute: the console session of the request (read by the CSRF token repository and sign-out). */
    static final String SESSION = ConsoleSessions.Session.class.getName();

    private final ConsoleSessions sessions;
    private final PendingSignIn pending;
    private final TokenEndpoint tokenEndpoint;
    private final AccessTokenCallers callers;
    private final ConsoleAccess access;
    private final ErrorPages errors;

    ConsoleSignInFilter(ConsoleSessions sessions, PendingSignIn pending, TokenEndpoint tokenEndpoint,
            AccessTokenCallers callers, ConsoleAccess access, ErrorPages errors) {
        this.sessions = sessions;
        this.pending = pending;
        this.tokenEndpoint = tokenEndpoint;
        this.callers = callers;
        this.access = access;
        this.errors = errors;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = request.getRequestURI();
        return !(path.equals(ConsoleApp.PATH) || path.startsWith(ConsoleApp.PATH + "/"))
                || path.equals(ConsoleApp.CALLBACK) || path.equals(ConsoleApp.PATH + "/signed-out");
    }

    /** A page other than the dashboard, reached from another site's link, form or redirect (Fetch Metadata). */
    static boolean navigatedFromAnotherSite(HttpServletRequest request) {
        String site = request.getHeader("Sec-Fetch-Site");
        return ("cross-site".equals(site) || "same-site".equals(site)) && !request.getRequestURI().equals(ConsoleApp.PATH);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (navigatedFromAnotherSite(request)) {
            // A link or redirect on another site must not make the console search, prove or export in
            // the officer's name (such reads are audited and land in a patient's accounting of
            // disclosures): the page is not run; the officer lands on the dashboard, which reads nothing
            // on a request's say-so. A bookmark or a typed address has no Sec-Fetch-Site of another site.
            response.setStatus(HttpServletResponse.SC_SEE_OTHER);
            response.setHeader("Location", ConsoleApp.PATH);
            return;
        }
        // Every event of a console request names the console as the app (as the API names a SMART app).
        request.setAttribute(AuditContext.APP_ATTRIBUTE, ConsoleApp.CLIENT_ID);
        Optional<ConsoleSessions.Session> session = sessions.find(request);
        if (session.isPresent() && sessions.refreshDue(session.get())) {
            session = sessions.refresh(session.get(), tokenEndpoint::refresh);
        }
        Optional<Caller> caller = session.flatMap(s -> callers.caller(s.tokens().accessToken()));
        if (caller.isEmpty()) {
            session.ifPresent(ended -> sessions.end(ended, response));
            notSignedIn(request, response);
            return;
        }
        request.setAttribute(SESSION, session.get());
        Callers.attach(request, caller.get());
        SecurityContext context = SecurityContextHolder.createEmptyContext();
        context.setAuthentication(UsernamePasswordAuthenticationToken.authenticated(caller.get().principal(), null, List.of()));
        SecurityContextHolder.setContext(context);
        try {
            chain.doFilter(request, response);
        } finally {
            SecurityContextHolder.clearContext();
        }
    }

    private void notSignedIn(HttpServletRequest request, HttpServletResponse response) throws IOException {
        boolean pageView = "GET".equals(request.getMethod()) && request.getHeader("HX-Request") == null;
        if (!pageView) {
            access.denied(request, "anonymous", ConsolePaths.audited(request));
            errors.write(response, HttpServletResponse.SC_UNAUTHORIZED,
                    "Your console session has ended. Open the console again to sign in.");
            return;
        }
        // Back to the page asked for after the sign-in: its path only (a known console route), never its query.
        PendingSignIn.Started started = pending.start(ConsolePaths.returnTo(request), response);
        response.setHeader("Cache-Control", "no-store");
        response.sendRedirect(tokenEndpoint.authorizeUrl(started.state(), started.codeChallenge()));
    }
}
