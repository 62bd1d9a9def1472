package health.carapace.signin.internal;

import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.web.util.HtmlUtils;

/**
 * The sign-in pages' HTML, in Carapace's one face (the {@code cp-*} classes of
 * {@code /assets/carapace.css}, shared with the console): server-rendered, no script, no inline
 * style and no style attribute, so the Content-Security-Policy allows styles from this origin only
 * and nothing else. Every value put into a page is HTML-escaped; pages never show what the
 * visitor typed.
 */
final class LoginHtml {

    static final String PRODUCT = "Carapace";

    /** The shared stylesheet, with its content's hash in the query: cached for a year, never stale. */
    static final String STYLESHEET = "/assets/carapace.css?v=" + contentVersion("/static/assets/carapace.css");

    /**
     * No default source; styles only from this origin's stylesheet (no inline style, no script of
     * any kind); no images, no framing, no base. Forms post back to these pages; {@code form-action}
     * is not set because browsers apply it to the redirect that ends a sign-in at the app.
     */
    static final String CSP = "default-src 'none'; style-src 'self'; img-src 'none'; frame-ancestors 'none'; "
            + "base-uri 'none'";

    private LoginHtml() {
    }

    static ResponseEntity<String> page(HttpStatus status, String title, String body) {
        return page(status, title, null, body);
    }

    /**
     * A whole page: the product's name, the app the person is signing in to (its registered
     * display name; null when no app is asking), then the title and body in one card.
     */
    static ResponseEntity<String> page(HttpStatus status, String title, String appName, String body) {
        String asking = appName == null ? ""
                : "<p class=\"cp-hint\" id=\"asking-app\">Signing in to <strong>" + escape(appName) + "</strong></p>";
        String html = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                + "<meta name=\"referrer\" content=\"no-referrer\">"
                + "<title>" + escape(title) + " · " + PRODUCT + "</title>"
                + "<link rel=\"stylesheet\" href=\"" + escape(STYLESHEET) + "\"></head><body><div class=\"cp-shell\">"
                + "<header class=\"cp-header\"><span class=\"cp-brand\" id=\"product\">" + PRODUCT + "</span>"
                + "<span>Secure sign-in</span></header>"
                + "<main class=\"cp-main\"><div class=\"cp-card\">" + asking
                + "<h1>" + escape(title) + "</h1>" + body + "</div></main></div></body></html>";
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
        return form(request, action, fields, button, "cp-button");
    }

    /** As {@link #form(HttpServletRequest, String, String, String)}, with the button's class (secondary actions). */
    static String form(HttpServletRequest request, String action, String fields, String button, String buttonClass) {
        CsrfToken csrf = (CsrfToken) request.getAttribute(CsrfToken.class.getName());
        String hidden = csrf == null ? "" : "<input type=\"hidden\" name=\"" + escape(csrf.getParameterName())
                + "\" value=\"" + escape(csrf.getToken()) + "\">";
        return "<form class=\"cp-form\" method=\"post\" action=\"" + escape(action) + "\">" + hidden + fields
                + "<button type=\"submit\" class=\"" + buttonClass + "\">" + escape(button) + "</button></form>";
    }

    /** A labelled, required field; {@code autocomplete} tells password managers what it is. */
    static String input(String label, String name, String type, String autocomplete) {
        return field(label, name, type, autocomplete, true, null);
    }

    /**
     * A labelled field ({@code name} is also its id). A one-time code asks for the numeric
     * keyboard; a hint is tied to the field with {@code aria-describedby}.
     */
    static String field(String label, String name, String type, String autocomplete, boolean required, String hint) {
        String hintId = name + "-hint";
        return "<div class=\"cp-field\"><label class=\"cp-label\" for=\"" + name + "\">" + escape(label) + "</label>"
                + (hint == null ? "" : "<span class=\"cp-hint\" id=\"" + hintId + "\">" + escape(hint) + "</span>")
                + "<input id=\"" + name + "\" name=\"" + name + "\" type=\"" + type + "\" autocomplete=\""
                + autocomplete + "\"" + ("one-time-code".equals(autocomplete) ? " inputmode=\"numeric\"" : "")
                + (hint == null ? "" : " aria-describedby=\"" + hintId + "\"") + (required ? " required" : "") + "></div>";
    }

    static String hidden(String name, String value) {
        return "<input type=\"hidden\" name=\"" + escape(name) + "\" value=\"" + escape(value) + "\">";
    }

    /** An error, announced to screen readers; {@code detail} (may be null) explains what to do next. */
    static String error(String message) {
        return error(message, null);
    }

    static String error(String message, String detail) {
        return message == null ? "" : "<div class=\"cp-error\" role=\"alert\"><p id=\"error\">" + escape(message) + "</p>"
                + (detail == null ? "" : "<p>" + escape(detail) + "</p>") + "</div>";
    }

    static String notice(String text) {
        return "<div class=\"cp-notice\"><p>" + escape(text) + "</p></div>";
    }

    static String paragraph(String text) {
        return "<p>" + escape(text) + "</p>";
    }

    static String escape(String value) {
        return HtmlUtils.htmlEscape(value == null ? "" : value, "UTF-8");
    }

    /** The first 16 hex digits of the file's SHA-256: a new stylesheet gets a new URL, so a long cache is safe. */
    private static String contentVersion(String resource) {
        try (InputStream in = LoginHtml.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the stylesheet " + resource + " is missing from the build");
            }
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(in.readAllBytes()), 0, 8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
