package health.carapace.bench;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An OAuth2 token endpoint asked for client-credentials tokens (RFC 6749 §4.4), with the client
 * authenticating by HTTP Basic ({@code client_secret_basic}).
 */
final class TokenEndpoint implements Supplier<CompletableFuture<IssuedToken>> {

    private static final Pattern ACCESS_TOKEN = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern EXPIRES_IN = Pattern.compile("\"expires_in\"\\s*:\\s*\"?(\\d+)");
    /** RFC 6749 makes expires_in optional; assume a short life rather than none. */
    static final Duration LIFETIME_WHEN_UNSTATED = Duration.ofMinutes(5);

    private final HttpClient client;
    private final URI uri;
    private final String basicCredentials;
    private final Duration timeout;

    TokenEndpoint(HttpClient client, URI uri, String clientId, String clientSecret, Duration timeout) {
        this.client = client;
        this.uri = uri;
        // RFC 6749 §2.3.1: form-encode id and secret before joining them for Basic.
        String pair = form(clientId) + ":" + form(clientSecret);
        this.basicCredentials = "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
        this.timeout = timeout;
    }

    @Override
    public CompletableFuture<IssuedToken> get() {
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(timeout)
                .header("Authorization", basicCredentials)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"))
                .build();
        return client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenApply(this::parse);
    }

    private IssuedToken parse(HttpResponse<String> response) {
        if (response.statusCode() != 200) {
            // The body of an error (RFC 6749 §5.2) names the problem and holds no secret.
            throw new TokenRequestFailedException("token endpoint " + uri + " answered " + response.statusCode()
                    + ": " + abbreviate(response.body()));
        }
        return parse(response.body());
    }

    /** Reads a token response (RFC 6749 §5.1); a regex is enough for its two flat fields. */
    static IssuedToken parse(String body) {
        Matcher token = ACCESS_TOKEN.matcher(body);
        if (!token.find()) {
            throw new TokenRequestFailedException("token response has no access_token");
        }
        Matcher expiresIn = EXPIRES_IN.matcher(body);
        Duration lifetime = expiresIn.find() ? Duration.ofSeconds(Long.parseLong(expiresIn.group(1)))
                : LIFETIME_WHEN_UNSTATED;
        return new IssuedToken(token.group(1), lifetime);
    }

    private static String form(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private static String abbreviate(String body) {
        String oneLine = body == null ? "" : body.replaceAll("\\s+", " ").trim();
        return oneLine.length() <= 200 ? oneLine : oneLine.substring(0, 200) + "...";
    }

    static final class TokenRequestFailedException extends RuntimeException {
        TokenRequestFailedException(String message) {
            super(message);
        }
    }
}
