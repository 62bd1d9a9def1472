package health.carapace.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.util.JSONObjectUtils;
import java.net.CookieManager;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;
import org.apache.commons.codec.binary.Base32;

/**
 * A browser, as far as the sign-in flow needs one: JDK HttpClient with a cookie jar that follows
 * no redirect by itself, so every hop (authorize → login → TOTP → authorize → callback) is seen
 * and checked. It computes TOTP codes itself, from the secret the enrolment page shows, with an
 * RFC 6238 implementation of its own (not the server's), and does PKCE as an app would.
 */
public final class SignInBrowser {

    public static final String APP = "dev-console";
    private static final Pattern CSRF = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"");
    private static final Pattern SECRET = Pattern.compile("<code id=\"secret\">([A-Z2-7]+)</code>");
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The tokens an app holds after the code exchange or a refresh. */
    public record Tokens(String accessToken, String refreshToken, long expiresIn) {}

    /** Where the next request goes: a test of many nodes points it at another node or a balancer mid-flow. */
    public String base;
    public final String redirectUri = "http://127.0.0.1:" + (40000 + RANDOM.nextInt(20000)) + "/callback";
    private final SSLContext tls;
    /** The server's clock: TOTP codes are for its steps (a movable one is moved, not waited for). */
    private final Clock serverClock;
    private HttpClient client;
    public String verifier;
    public String state;
    public String code;

    public SignInBrowser(String base, SSLContext tls) {
        this(base, tls, Clock.systemUTC());
    }

    public SignInBrowser(String base, SSLContext tls, Clock serverClock) {
        this.base = base;
        this.tls = tls;
        this.serverClock = serverClock;
        newBrowser();
    }

    /** Forgets every cookie: a fresh browser. */
    public void newBrowser() {
        client = HttpClient.newBuilder().sslContext(tls).cookieHandler(new CookieManager())
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    // --- the flow -----------------------------------------------------------------------------

    /** Starts an authorization request with PKCE S256; returns the response (a redirect to /login). */
    public HttpResponse<String> authorize() {
        verifier = randomText();
        state = randomText();
        return get(authorizeUrl(Map.of("code_challenge", s256(verifier), "code_challenge_method", "S256")));
    }

    public String authorizeUrl(Map<String, String> extra) {
        Map<String, String> query = new LinkedHashMap<>();
        query.put("response_type", "code");
        query.put("client_id", APP);
        query.put("redirect_uri", redirectUri);
        query.put("state", state == null ? randomText() : state);
        query.putAll(extra);
        return base + "/oauth2/authorize?" + form(query);
    }

    /** Posts the password with the page's CSRF token; returns the response (303 to TOTP or MFA, or the page again). */
    public HttpResponse<String> submitPassword(String user, String password) {
        HttpResponse<String> page = get(base + "/login");
        assertThat(page.statusCode()).isEqualTo(200);
        return post(base + "/login", Map.of("username", user, "password", password, "_csrf", csrf(page.body())));
    }

    /** Fetches the TOTP enrolment page and returns the base32 secret it shows. */
    public String enrolmentSecret() {
        HttpResponse<String> page = get(base + "/login/totp");
        assertThat(page.statusCode()).as("enrolment page").isEqualTo(200);
        Matcher m = SECRET.matcher(page.body());
        assertThat(m.find()).as("secret on the enrolment page").isTrue();
        lastPage = page.body();
        return m.group(1);
    }

    private String lastPage;

    public HttpResponse<String> submitEnrolmentCode(String code) {
        return post(base + "/login/totp", Map.of("code", code, "_csrf", csrf(lastPage)));
    }

    public HttpResponse<String> submitMfaCode(String code) {
        HttpResponse<String> page = get(base + "/login/mfa");
        assertThat(page.statusCode()).as("MFA page").isEqualTo(200);
        return post(base + "/login/mfa", Map.of("code", code, "_csrf", csrf(page.body())));
    }

    /** Follows the redirect back to the authorization endpoint and returns the code from the app's redirect. */
    public String followToCode(HttpResponse<String> afterSecondFactor) {
        assertThat(afterSecondFactor.statusCode()).as("after the second factor: %s", afterSecondFactor.body()).isEqualTo(303);
        String resume = location(afterSecondFactor);
        assertThat(resume).contains("/oauth2/authorize");
        HttpResponse<String> toApp = get(resume);
        assertThat(toApp.statusCode()).isEqualTo(302);
        URI callback = URI.create(location(toApp));
        assertThat(callback.getScheme() + "://" + callback.getAuthority() + callback.getPath()).isEqualTo(redirectUri);
        Map<String, String> query = query(callback);
        assertThat(query.get("state")).isEqualTo(state);
        code = query.get("code");
        assertThat(code).isNotBlank();
        return code;
    }

    public HttpResponse<String> exchange(String code, String codeVerifier) {
        Map<String, String> body = new LinkedHashMap<>(Map.of("grant_type", "authorization_code", "code", code,
                "redirect_uri", redirectUri, "client_id", APP));
        if (codeVerifier != null) {
            body.put("code_verifier", codeVerifier);
        }
        return post(base + "/oauth2/token", body);
    }

    public HttpResponse<String> refresh(String refreshToken) {
        return post(base + "/oauth2/token", Map.of("grant_type", "refresh_token", "refresh_token", refreshToken,
                "client_id", APP));
    }

    public HttpResponse<String> revoke(String refreshToken) {
        return post(base + "/oauth2/revoke", Map.of("token", refreshToken, "token_type_hint", "refresh_token",
                "client_id", APP));
    }

    public static Tokens tokens(HttpResponse<String> response) {
        assertThat(response.statusCode()).as("token response: %s", response.body()).isEqualTo(200);
        try {
            Map<String, Object> json = JSONObjectUtils.parse(response.body());
            return new Tokens((String) json.get("access_token"), (String) json.get("refresh_token"),
                    ((Number) json.get("expires_in")).longValue());
        } catch (java.text.ParseException e) {
            throw new AssertionError(e);
        }
    }

    public HttpResponse<String> fhirGet(String path, String accessToken) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + accessToken).GET());
    }

    // --- whole sign-ins, for tests about what comes after ---------------------------------------

    /** The TOTP secret enrolled by {@link #firstSignIn}. */
    public String secret;

    /** Sets the password through the enrolment link; returns the response to the form's submission. */
    public HttpResponse<String> setPassword(String link, String password) {
        HttpResponse<String> page = get(local(link));
        assertThat(page.statusCode()).as("enrolment link page").isEqualTo(200);
        String token = query(URI.create(link)).get("token");
        return post(base + "/login/enrol", Map.of("token", token, "password", password, "confirm", password,
                "_csrf", csrf(page.body())));
    }

    /** The link on this test server (the printed link names the configured issuer's port, not the random one). */
    public String local(String link) {
        URI uri = URI.create(link);
        return base + uri.getRawPath() + "?" + uri.getRawQuery();
    }

    /** Enrolment link, first sign-in with TOTP enrolment, code exchange: the tokens. */
    public Tokens firstSignIn(String link, String user, String password) {
        assertThat(setPassword(link, password).statusCode()).isEqualTo(200);
        assertThat(authorize().statusCode()).isEqualTo(302);
        HttpResponse<String> afterPassword = submitPassword(user, password);
        assertThat(location(afterPassword)).endsWith("/login/totp");
        secret = enrolmentSecret();
        String code = followToCode(submitEnrolmentCode(nextCode(secret)));
        return tokens(exchange(code, verifier));
    }

    /** A later sign-in (password and TOTP) in a fresh browser: the tokens. */
    public Tokens signIn(String user, String password) {
        newBrowser();
        assertThat(authorize().statusCode()).isEqualTo(302);
        HttpResponse<String> afterPassword = submitPassword(user, password);
        assertThat(location(afterPassword)).endsWith("/login/mfa");
        String code = followToCode(submitMfaCode(nextCode(secret)));
        return tokens(exchange(code, verifier));
    }

    // --- TOTP, written from RFC 6238 / RFC 4226 independently of the server --------------------

    private long lastStep = Long.MIN_VALUE;

    /**
     * A code the server must accept: for the current 30-second step, or a later one within the
     * one-step drift the server allows when the current step was already used (codes are single-use).
     */
    public String nextCode(String base32Secret) {
        long now = serverClock.instant().getEpochSecond() / 30;
        long step = Math.max(now, lastStep + 1);
        if (step > now + 1) {
            if (serverClock instanceof MovableClock movable) {
                movable.advanceTo(Instant.ofEpochSecond((step - 1) * 30));
            } else {
                sleepUntilStep(step - 1);
            }
            now = step - 1;
        }
        lastStep = step;
        return totp(base32Secret, step);
    }

    /** The code of the step already used last (a replay). */
    public String lastCode(String base32Secret) {
        return totp(base32Secret, lastStep);
    }

    public static String totp(String base32Secret, long step) {
        try {
            byte[] key = new Base32().decode(base32Secret);
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] hash = mac.doFinal(ByteBuffer.allocate(8).putLong(step).array());
            int offset = hash[hash.length - 1] & 0x0f;
            int binary = ((hash[offset] & 0x7f) << 24) | ((hash[offset + 1] & 0xff) << 16)
                    | ((hash[offset + 2] & 0xff) << 8) | (hash[offset + 3] & 0xff);
            return String.format("%06d", binary % 1_000_000);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static void sleepUntilStep(long step) {
        long wait = step * 30_000 - System.currentTimeMillis() + 50;
        if (wait > 0) {
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    // --- HTTP ---------------------------------------------------------------------------------

    public HttpResponse<String> get(String url) {
        return send(HttpRequest.newBuilder(URI.create(url)).GET());
    }

    public HttpResponse<String> post(String url, Map<String, String> fields) {
        return send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form(fields))));
    }

    /** Sees every response, in order (a test of many nodes notes which node served each step). */
    public java.util.function.Consumer<HttpResponse<String>> seen = response -> { };

    public HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            seen.accept(response);
            return response;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public static String location(HttpResponse<String> response) {
        return response.headers().firstValue("Location").orElseThrow(() -> new AssertionError("no Location header"));
    }

    public static String csrf(String html) {
        Matcher m = CSRF.matcher(html);
        assertThat(m.find()).as("CSRF token in the page").isTrue();
        return m.group(1).replace("&#45;", "-").replace("&#95;", "_");
    }

    public static Map<String, String> query(URI uri) {
        Map<String, String> values = new LinkedHashMap<>();
        if (uri.getRawQuery() != null) {
            for (String pair : uri.getRawQuery().split("&")) {
                String[] kv = pair.split("=", 2);
                values.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
                        kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
            }
        }
        return values;
    }

    public static String form(Map<String, String> fields) {
        return fields.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
    }

    public static String s256(String verifier) {
        try {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    public static String randomText() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
