package health.carapace.signin.internal;

import health.carapace.crypto.StateSeal;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseCookie;
import org.springframework.security.web.savedrequest.RequestCache;
import org.springframework.security.web.savedrequest.SavedRequest;
import org.springframework.security.web.util.UrlUtils;
import org.springframework.security.web.util.matcher.RequestMatcher;

/**
 * The authorization request a browser is signing in for, kept by the browser, not the server,
 * until the person has given a password (ADR 0042): a {@code __Host-} cookie (Secure, HttpOnly,
 * SameSite=Lax, {@code Path=/}, no Domain) holding the request's path and query and the time it
 * stops being valid, sealed under the sign-in state key (context "sign-in authorization
 * request"), so the browser can neither read nor change it. An anonymous request to the
 * authorization endpoint thus writes nothing on the server: a stranger cannot fill a table with
 * them (review L7). The request was checked by the authorization endpoint before it is kept
 * (client, redirect URI, PKCE, scopes), and it is checked again, whole, when the browser comes
 * back with it after the sign-in.
 */
final class AuthorizationRequestCookie implements RequestCache {

    static final String COOKIE = "__Host-CARAPACE_AUTHORIZE";
    static final String CONTEXT = "sign-in authorization request";
    /** Browsers keep at least 4096 bytes per cookie, name and attributes included. */
    static final int MAX_VALUE = 3900;

    /**
     * What the browser holds: the kept request, nothing, or a value that did not open here (altered,
     * forged, or sealed under a key destroyed since).
     */
    record Held(SavedRequest request, StateSeal.Refusal refusal) {

        static final Held NOTHING = new Held(null, null);
    }

    private final RequestMatcher authorizationEndpoint;
    private final SignInStateSeal seal;
    private final Clock clock;
    private final Duration lifetime;

    AuthorizationRequestCookie(RequestMatcher authorizationEndpoint, SignInStateSeal seal, Clock clock,
            Duration lifetime) {
        this.authorizationEndpoint = authorizationEndpoint;
        this.seal = seal;
        this.clock = clock;
        this.lifetime = lifetime;
    }

    @Override
    public void saveRequest(HttpServletRequest request, HttpServletResponse response) {
        if (!authorizationEndpoint.matches(request)) {
            return;
        }
        long validUntil = clock.instant().plus(lifetime).getEpochSecond();
        String plain = validUntil + "\n" + target(request);
        String value = Base64.getUrlEncoder().withoutPadding()
                .encodeToString(seal.seal(plain.getBytes(StandardCharsets.UTF_8), CONTEXT));
        if (value.length() > MAX_VALUE) {
            // A browser would drop it; an older request it holds must not be resumed instead.
            removeRequest(request, response);
            return;
        }
        write(response, value, lifetime);
    }

    @Override
    public SavedRequest getRequest(HttpServletRequest request, HttpServletResponse response) {
        return held(request).request();
    }

    /** The request the browser holds, nothing, or why what it holds was refused. */
    Held held(HttpServletRequest request) {
        String value = cookie(request);
        if (value == null) {
            return Held.NOTHING;
        }
        byte[] sealed;
        try {
            sealed = Base64.getUrlDecoder().decode(value);
        } catch (IllegalArgumentException notOurs) {
            return new Held(null, StateSeal.Refusal.NOT_AUTHENTIC);
        }
        StateSeal.Opening opening = seal.opening(sealed, CONTEXT);
        if (opening.refusal() != null) {
            return new Held(null, opening.refusal());
        }
        String plain = new String(opening.plain(), StandardCharsets.UTF_8);
        try {
            int newline = plain.indexOf('\n');
            if (clock.instant().getEpochSecond() > Long.parseLong(plain.substring(0, newline))) {
                return Held.NOTHING;
            }
            return new Held(Kept.of(request, plain.substring(newline + 1)), null);
        } catch (RuntimeException notOurs) {
            // authentic yet not in our form: only a key holder could have made it; refused all the same
            return new Held(null, StateSeal.Refusal.NOT_AUTHENTIC);
        }
    }

    /** The browser's return to the authorization endpoint with the request it holds: used once, then forgotten. */
    @Override
    public HttpServletRequest getMatchingRequest(HttpServletRequest request, HttpServletResponse response) {
        if (!authorizationEndpoint.matches(request)) {
            return null;
        }
        SavedRequest kept = getRequest(request, response);
        if (kept instanceof Kept held && held.target().equals(target(request))) {
            removeRequest(request, response);
            return request;
        }
        return null;
    }

    @Override
    public void removeRequest(HttpServletRequest request, HttpServletResponse response) {
        if (response != null && cookie(request) != null) {
            write(response, "", Duration.ZERO);
        }
    }

    private static void write(HttpServletResponse response, String value, Duration maxAge) {
        response.addHeader(HttpHeaders.SET_COOKIE, ResponseCookie.from(COOKIE, value).path("/").secure(true).httpOnly(true)
                .sameSite("Lax").maxAge(maxAge).build().toString());
    }

    private static String cookie(HttpServletRequest request) {
        Cookie[] cookies = request.getCookies();
        if (cookies == null) {
            return null;
        }
        for (Cookie cookie : cookies) {
            if (COOKIE.equals(cookie.getName()) && !cookie.getValue().isEmpty()) {
                return cookie.getValue();
            }
        }
        return null;
    }

    /** The request's path and query as the browser sent them (still encoded). */
    private static String target(HttpServletRequest request) {
        String query = request.getQueryString();
        return request.getRequestURI() + (query == null ? "" : "?" + query);
    }

    /** A kept authorization request: where to send the browser back to, and its parameters for the pages. */
    private record Kept(String redirectUrl, String target, Map<String, String[]> parameters) implements SavedRequest {

        /** On the origin the browser is on now (the cookie is bound to it): the kept path and query. */
        static Kept of(HttpServletRequest request, String target) {
            int question = target.indexOf('?');
            String path = question < 0 ? target : target.substring(0, question);
            String query = question < 0 ? null : target.substring(question + 1);
            return new Kept(UrlUtils.buildFullRequestUrl(request.getScheme(), request.getServerName(),
                    request.getServerPort(), path, query), target, parameters(query));
        }

        /** As the servlet container reads a query (form encoding, UTF-8); the endpoint accepted it so. */
        private static Map<String, String[]> parameters(String query) {
            Map<String, List<String>> values = new LinkedHashMap<>();
            if (query != null) {
                for (String pair : query.split("&")) {
                    if (pair.isEmpty()) {
                        continue;
                    }
                    String[] nameValue = pair.split("=", 2);
                    values.computeIfAbsent(URLDecoder.decode(nameValue[0], StandardCharsets.UTF_8), n -> new ArrayList<>())
                            .add(nameValue.length > 1 ? URLDecoder.decode(nameValue[1], StandardCharsets.UTF_8) : "");
                }
            }
            Map<String, String[]> parameters = new LinkedHashMap<>();
            values.forEach((name, list) -> parameters.put(name, list.toArray(String[]::new)));
            return Map.copyOf(parameters);
        }

        @Override
        public String getRedirectUrl() {
            return redirectUrl;
        }

        @Override
        public List<Cookie> getCookies() {
            return List.of();
        }

        @Override
        public String getMethod() {
            return "GET";
        }

        @Override
        public List<String> getHeaderValues(String name) {
            return List.of();
        }

        @Override
        public Collection<String> getHeaderNames() {
            return List.of();
        }

        @Override
        public List<Locale> getLocales() {
            return List.of();
        }

        @Override
        public String[] getParameterValues(String name) {
            String[] values = parameters.get(name);
            return values == null ? null : values.clone();
        }

        @Override
        public Map<String, String[]> getParameterMap() {
            return parameters;
        }
    }
}
