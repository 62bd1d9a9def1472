package health.carapace.console.internal;

import health.carapace.console.ConsoleApp;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Optional;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;

/**
 * The console's end of the sign-in: the authorization server's redirect with the code (exchanged
 * here, with the PKCE verifier, for tokens that stay on the server), and the sign-out, which
 * revokes the refresh token (ending the person's sign-in session, audited as a logout there).
 */
@Controller
class SignInPages {

    private static final java.util.regex.Pattern CODE = java.util.regex.Pattern.compile("[A-Za-z0-9_.~-]{16,512}");

    private final ConsoleSessions sessions;
    private final PendingSignIn pending;
    private final TokenEndpoint tokenEndpoint;

    SignInPages(ConsoleSessions sessions, PendingSignIn pending, TokenEndpoint tokenEndpoint) {
        this.sessions = sessions;
        this.pending = pending;
        this.tokenEndpoint = tokenEndpoint;
    }

    @GetMapping(ConsoleApp.CALLBACK)
    String callback(HttpServletRequest request, HttpServletResponse response) {
        Optional<PendingSignIn.Started> started = pending.find(request);
        PendingSignIn.forget(response);
        String code = single(request, "code");
        if (health.carapace.platform.web.DecodableParameters.undecodable(request) || started.isEmpty() || !started.get().matches(single(request, "state")) || code == null
                || !CODE.matcher(code).matches()) {
            throw new ConsoleRefusal(400, "This sign-in could not be completed. Open the console again to sign in.");
        }
        TokenEndpoint.Issued issued = tokenEndpoint.exchange(code, started.get().verifier())
                .orElseThrow(() -> new ConsoleRefusal(400,
                        "This sign-in could not be completed. Open the console again to sign in."));
        // A sign-in in a browser that still holds a console session (a shared workstation, a second
        // person) ends that session first, here and at the authorization server, rather than leaving
        // it and its refresh token live until the idle timeout.
        sessions.find(request).ifPresent(previous -> {
            tokenEndpoint.revoke(previous.tokens().refreshToken());
            sessions.discard(previous);
        });
        sessions.create(issued, response);
        response.setHeader("Cache-Control", "no-store");
        return "redirect:" + started.get().returnTo();
    }

    @PostMapping(ConsoleApp.PATH + "/sign-out")
    String signOut(HttpServletRequest request, HttpServletResponse response) {
        if (request.getAttribute(ConsoleSignInFilter.SESSION) instanceof ConsoleSessions.Session session) {
            tokenEndpoint.revoke(session.tokens().refreshToken());
            sessions.end(session, response);
        }
        return "redirect:" + ConsoleApp.PATH + "/signed-out";
    }

    @GetMapping(ConsoleApp.PATH + "/signed-out")
    String signedOut(org.springframework.ui.Model model) {
        model.addAttribute("viewer", Viewer.NOBODY);
        return "console/signed-out";
    }

    private static String single(HttpServletRequest request, String name) {
        String[] values = request.getParameterValues(name);
        return values == null || values.length != 1 ? null : values[0];
    }
}
