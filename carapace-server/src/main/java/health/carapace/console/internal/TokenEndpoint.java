package health.carapace.console.internal;

import health.carapace.console.ConsoleApp;
import health.carapace.platform.web.PublicBaseUrl;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The console talking to the authorization server as any public sign-in app does, over HTTPS at
 * the server's public address: the code exchange with its PKCE verifier, the refresh (rotating),
 * the revocation at sign-out. So the console's tokens are issued, audited, rotated, revoked and
 * throttled by exactly the code that serves every other app; nothing here issues or checks a token.
 */
final class TokenEndpoint {

    private static final Logger log = LoggerFactory.getLogger(TokenEndpoint.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Tokens as the token endpoint issued them. */
    record Issued(String accessToken, String refreshToken, Instant accessExpiresAt) {}

    private final PublicBaseUrl baseUrl;
    private final java.util.function.Supplier<SSLContext> tls;
    private final Clock clock;
    private volatile HttpClient http;

    /** @param tls made on first use: command-line contexts have this bean and never call out */
    TokenEndpoint(PublicBaseUrl baseUrl, java.util.function.Supplier<SSLContext> tls, Clock clock) {
        this.baseUrl = baseUrl;
        this.tls = tls;
        this.clock = clock;
    }

    private HttpClient http() {
        HttpClient client = http;
        if (client == null) {
            synchronized (this) {
                if (http == null) {
                    http = HttpClient.newBuilder().sslContext(tls.get()).connectTimeout(Duration.ofSeconds(5))
                            .followRedirects(HttpClient.Redirect.NEVER).build();
                }
                client = http;
            }
        }
        return client;
    }

    String redirectUri() {
        return baseUrl.value() + ConsoleApp.CALLBACK;
    }

    /** The authorization request the browser is sent to (the sign-in pages ask for password and TOTP). */
    String authorizeUrl(String state, String codeChallenge) {
        Map<String, String> query = new LinkedHashMap<>();
        query.put("response_type", "code");
        query.put("client_id", ConsoleApp.CLIENT_ID);
        query.put("redirect_uri", redirectUri());
        query.put("state", state);
        query.put("code_challenge", codeChallenge);
        query.put("code_challenge_method", "S256");
        return baseUrl.value() + "/oauth2/authorize?" + form(query);
    }

    Optional<Issued> exchange(String code, String verifier) {
        return tokens(Map.of("grant_type", "authorization_code", "code", code, "redirect_uri", redirectUri(),
                "client_id", ConsoleApp.CLIENT_ID, "code_verifier", verifier));
    }

    Optional<Issued> refresh(String refreshToken) {
        return tokens(Map.of("grant_type", "refresh_token", "refresh_token", refreshToken,
                "client_id", ConsoleApp.CLIENT_ID));
    }

    /** Revokes the refresh token, which ends the person's sign-in session (logout, audited there). */
    void revoke(String refreshToken) {
        try {
            post("/oauth2/revoke", Map.of("token", refreshToken, "token_type_hint", "refresh_token",
                    "client_id", ConsoleApp.CLIENT_ID));
        } catch (IOException e) {
            // The console session is ended regardless; the sign-in session then ends at its idle timeout.
            log.warn("The console could not revoke a session's refresh token at sign-out ({})", e.getClass().getSimpleName());
        }
    }

    private Optional<Issued> tokens(Map<String, String> fields) {
        HttpResponse<String> response;
        try {
            response = post("/oauth2/token", fields);
        } catch (IOException e) {
            log.warn("The console could not reach the token endpoint ({})", e.getClass().getSimpleName());
            return Optional.empty();
        }
        if (response.statusCode() != 200) {
            return Optional.empty(); // a refused code or refresh token: the person signs in again
        }
        JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (RuntimeException notJson) {
            return Optional.empty();
        }
        String access = body.path("access_token").asString(null);
        String refresh = body.path("refresh_token").asString(null);
        long expiresIn = body.path("expires_in").asLong(0);
        if (access == null || refresh == null || expiresIn <= 0) {
            return Optional.empty();
        }
        return Optional.of(new Issued(access, refresh, clock.instant().plusSeconds(expiresIn)));
    }

    private HttpResponse<String> post(String path, Map<String, String> fields) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl.value() + path))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form(fields)))
                .build();
        try {
            return http().send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static String form(Map<String, String> fields) {
        return fields.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
    }
}
