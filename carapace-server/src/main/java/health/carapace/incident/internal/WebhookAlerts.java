package health.carapace.incident.internal;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;

/**
 * Posts an alert to an HTTPS webhook, signed: header {@code Carapace-Signature: t=<unix seconds>,
 * v1=<hex HMAC-SHA256 over "<t>.<body>">} with the shared secret (a receiver recomputes it and
 * refuses an old timestamp, so a captured request cannot be replayed later), and
 * {@code Idempotency-Key} the same on every retry. Retried with exponential back-off on any
 * failure or non-2xx answer. The certificate is verified (no way to turn that off).
 */
final class WebhookAlerts {

    static final String SIGNATURE_HEADER = "Carapace-Signature";
    static final String IDEMPOTENCY_HEADER = "Idempotency-Key";

    private final HttpClient http;
    private final byte[] secret;
    private final Clock clock;
    private final int attempts;
    private final Duration firstBackOff;

    WebhookAlerts(SSLContext tls, byte[] secret, Clock clock, int attempts, Duration firstBackOff) {
        this.http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER).build();
        this.secret = secret.clone();
        this.clock = clock;
        this.attempts = attempts;
        this.firstBackOff = firstBackOff;
    }

    /** Sends, retrying; returns true once a 2xx came back, false when every attempt failed. */
    boolean send(URI url, Alert alert) throws InterruptedException {
        Duration wait = firstBackOff;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            try {
                if (deliverOnce(url, alert) == null) {
                    return true;
                }
            } catch (IOException unreachable) {
                // retried below
            }
            if (attempt < attempts) {
                Thread.sleep(wait.toMillis());
                wait = wait.multipliedBy(2);
            }
        }
        return false;
    }

    /**
     * One attempt (the outbox retries): null once a 2xx came back, else {@code status:<code>}. The
     * answer's body is never read: a receiver's words do not reach our records.
     *
     * @throws IOException when the receiver cannot be reached (or its certificate is not trusted)
     */
    String deliverOnce(URI url, Alert alert) throws IOException, InterruptedException {
        if (!"https".equals(url.getScheme())) {
            throw new IllegalArgumentException("webhooks are HTTPS only");
        }
        byte[] body = AdminJson.JSON.writeValueAsBytes(alert.json());
        long timestamp = clock.instant().getEpochSecond();
        HttpRequest request = HttpRequest.newBuilder(url)
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .header(IDEMPOTENCY_HEADER, alert.idempotencyKey())
                .header(SIGNATURE_HEADER, "t=" + timestamp + ",v1=" + sign(timestamp, body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        return status / 100 == 2 ? null : "status:" + status;
    }

    String sign(long timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update((timestamp + ".").getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available", e);
        }
    }
}
