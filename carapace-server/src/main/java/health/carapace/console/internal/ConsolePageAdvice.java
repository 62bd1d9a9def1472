package health.carapace.console.internal;

import health.carapace.incident.Incidents;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.ModelAttribute;

/**
 * What every console page shares: the viewer (for the navigation), the security headers, and
 * refusals shown as the console's error page with their status (a message of ours, nothing echoed).
 */
@ControllerAdvice(basePackageClasses = ConsolePageAdvice.class)
class ConsolePageAdvice {

    private final ConsoleAccess access;
    private final Times times;

    ConsolePageAdvice(ConsoleAccess access, java.time.Clock clock) {
        this.access = access;
        this.times = new Times(clock);
    }

    @ModelAttribute
    void shared(HttpServletRequest request, HttpServletResponse response, Model model) {
        ConsoleHeaders.apply(response);
        model.addAttribute("viewer", Viewer.of(request, access));
        model.addAttribute("times", times);
        model.addAttribute("assets", ConsoleAssets.CURRENT);
    }

    @ExceptionHandler(ConsoleRefusal.class)
    String refused(ConsoleRefusal refusal, HttpServletResponse response, Model model) {
        return errorPage(response, model, refusal.status(), refusal.getMessage());
    }

    /** The incident services' refusals: their messages are theirs and echo no input. */
    @ExceptionHandler(Incidents.Refused.class)
    String incidentRefused(Incidents.Refused refusal, HttpServletResponse response, Model model) {
        int status = switch (refusal.reason()) {
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case INVALID -> 400;
        };
        return errorPage(response, model, status, refusal.getMessage());
    }

    private static String errorPage(HttpServletResponse response, Model model, int status, String message) {
        ConsoleHeaders.apply(response);
        response.setStatus(status);
        model.addAttribute("status", status);
        model.addAttribute("message", message);
        model.addAttribute("assets", ConsoleAssets.CURRENT);
        return "console/error";
    }
}
