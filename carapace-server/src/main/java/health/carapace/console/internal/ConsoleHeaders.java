package health.carapace.console.internal;

import jakarta.servlet.http.HttpServletResponse;

/**
 * The console's response headers. Its pages load only their own files: scripts and styles from
 * {@code /assets} (no inline script or style, no eval: htmx runs with {@code allowEval=false}),
 * requests only to this origin, forms only to this origin, never framed. Every page may show PHI
 * (a patient reference, a principal's activity), so none is stored by any cache.
 */
final class ConsoleHeaders {

    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private ConsoleHeaders() {
    }

    static void apply(HttpServletResponse response) {
        response.setHeader("Content-Security-Policy", CSP);
        response.setHeader("X-Frame-Options", "DENY");
        response.setHeader("Cache-Control", "no-store");
        response.setHeader("Referrer-Policy", "no-referrer");
        response.setHeader("X-Content-Type-Options", "nosniff");
    }
}
