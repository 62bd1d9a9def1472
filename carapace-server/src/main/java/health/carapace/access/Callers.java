package health.carapace.access;

import jakarta.servlet.http.HttpServletRequest;
import java.util.Optional;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * The caller of the request being served. Resolved once per request, after the bearer token is
 * verified and before anything else runs, from the directory (not from the token's claims alone):
 * a disabled or deleted principal never gets this far.
 */
public final class Callers {

    static final String ATTRIBUTE = Caller.class.getName();

    private Callers() {}

    /** The current request's caller, or empty outside an authenticated API request. */
    public static Optional<Caller> current() {
        RequestAttributes attributes = RequestContextHolder.getRequestAttributes();
        if (!(attributes instanceof ServletRequestAttributes servlet)) {
            return Optional.empty();
        }
        return of(servlet.getRequest());
    }

    public static Optional<Caller> of(HttpServletRequest request) {
        return Optional.ofNullable((Caller) request.getAttribute(ATTRIBUTE));
    }

    /** For the resolver in the sign-in module ({@code signin.internal.CallerResolution}): attach the resolved caller. */
    public static void attach(HttpServletRequest request, Caller caller) {
        request.setAttribute(ATTRIBUTE, caller);
    }
}
