package health.carapace.console.internal;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.thymeleaf.ITemplateEngine;
import org.thymeleaf.context.Context;

/**
 * The console's error page, for refusals made before any page runs (no session, a CSRF failure):
 * the same template the pages' own refusals use, with a status and a message of ours. Nothing the
 * request sent is shown.
 */
final class ErrorPages {

    private final ITemplateEngine templates;

    ErrorPages(ITemplateEngine templates) {
        this.templates = templates;
    }

    void write(HttpServletResponse response, int status, String message) throws IOException {
        Context context = new Context();
        context.setVariable("status", status);
        context.setVariable("message", message);
        context.setVariable("viewer", Viewer.NOBODY);
        context.setVariable("assets", ConsoleAssets.CURRENT);
        String html = templates.process("console/error", context);
        response.setStatus(status);
        ConsoleHeaders.apply(response);
        response.setContentType("text/html;charset=UTF-8");
        response.setCharacterEncoding(StandardCharsets.UTF_8.name());
        response.getWriter().write(html);
    }
}
