package health.carapace.signin.internal;

import jakarta.servlet.http.HttpServletRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.web.util.HtmlUtils;

/**
 * The sign-in pages' HTML: server-rendered, no script, no external asset, one inline style
 * allowed by its hash in a strict Content-Security-Policy. Every value put into a page is
 * HTML-escaped; pages never show what the visitor typed.
 */
final class LoginHtml {

    private static final String STYLE = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}"
            + "label,input,button{display:block;width:100%;margin:.4rem 0}input{padding:.4rem}"
            + "code{word-break:break-all}.error{color:#a00}";

    /** No default source; only our inline style; no framing, no base, forms post back here. */
    static final String CSP = "default-src 'none'; style-src '" + sha256(STYLE) + "'; img-src 'none'; "
            + "frame-ancestors 'none'; base-uri 'none'";

    private LoginHtml() {
    }

    static ResponseEntity<String> page(HttpStatus status, String title, String body) {
        String html = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                + "<title>" + escape(title) + " · Carapace</title><style>" + STYLE + "</style></head><body>"
                + "<h1>" + escape(title) + "</h1>" + body + "</body></html>";
        return ResponseEntity.status(status)
                .contentType(new MediaType(MediaType.TEXT_HTML, StandardCharsets.UTF_8))
                .cacheControl(CacheControl.noStore())
                .header("Content-Security-Policy", CSP)
                .header("Referrer-Policy", "no-referrer")
                .body(html);
    }

    static ResponseEntity<String> redirect(String location) {
        return ResponseEntity.status(HttpStatus.SEE_OTHER).header("Location", location)
                .cacheControl(CacheControl.noStore()).build();
    }

    /** A POST form with the session's CSRF token and the given fields (already HTML). */
    static String form(HttpServletRequest request, String action, String fields, String button) {
        CsrfToken csrf = (CsrfToken) request.getAttribute(CsrfToken.class.getName());
        String hidden = csrf == null ? "" : "<input type=\"hidden\" name=\"" + escape(csrf.getParameterName())
                + "\" value=\"" + escape(csrf.getToken()) + "\">";
        return "<form method=\"post\" action=\"" + escape(action) + "\">" + hidden + fields
                + "<button type=\"submit\">" + escape(button) + "</button></form>";
    }

    static String input(String label, String name, String type, String autocomplete) {
        return "<label for=\"" + name + "\">" + escape(label) + "</label><input id=\"" + name + "\" name=\"" + name
                + "\" type=\"" + type + "\" autocomplete=\"" + autocomplete + "\" required>";
    }

    static String hidden(String name, String value) {
        return "<input type=\"hidden\" name=\"" + escape(name) + "\" value=\"" + escape(value) + "\">";
    }

    static String error(String message) {
        return message == null ? "" : "<p class=\"error\" role=\"alert\">" + escape(message) + "</p>";
    }

    static String paragraph(String text) {
        return "<p>" + escape(text) + "</p>";
    }

    static String escape(String value) {
        return HtmlUtils.htmlEscape(value == null ? "" : value, "UTF-8");
    }

    private static String sha256(String value) {
        try {
            return "sha256-" + Base64.getEncoder().encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
