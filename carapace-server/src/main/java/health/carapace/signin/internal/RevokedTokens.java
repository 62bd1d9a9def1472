package health.carapace.signin.internal;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Access tokens revoked before their expiry ({@code iam.revoked_token}, ADR 0013), by token id
 * ({@code jti}). Access tokens are self-contained JWTs that any node verifies alone, so the
 * revocation is shared state in the database: {@link CallerResolution} refuses a listed id on
 * the next request, on every node, after a restart too. Each revocation prunes the rows whose
 * tokens expired long enough ago that no node's verifier still accepts them.
 */
final class RevokedTokens {

    /** The condition {@link CallerResolution} adds to its principal lookup; its one parameter is the jti. */
    static final String NOT_REVOKED = "not exists (select 1 from iam.revoked_token r where r.jti = ?)";

    /** Well past the 60 seconds of clock skew the verifier allows on {@code exp}, and skew between nodes. */
    static final Duration KEPT_AFTER_EXPIRY = Duration.ofMinutes(10);

    private final JdbcClient jdbc;
    private final Clock clock;

    RevokedTokens(DataSource dataSource, Clock clock, CallerChanges changes) {
        this.jdbc = JdbcClient.create(dataSource);
        this.clock = clock;
        this.changes = changes;
    }

    private final CallerChanges changes;

    /**
     * A revoked refresh token, listed by its SHA-256, never in clear, until it could no longer be
     * used anyway (the session's maximum lifetime): a second line behind the shared authorization
     * store (ADR 0030), so that whichever node sees the token next refuses it and ends its session
     * even if the store's copy was not invalidated. A value that is not one of our refresh tokens
     * is not listed.
     */
    void revokeRefreshToken(String value, Duration usableFor) {
        if (value != null && REFRESH_TOKEN_SHAPE.matcher(value).matches()) {
            revoke(refreshTokenKey(value), clock.instant().plus(usableFor));
        }
    }

    /** Whether a refresh token was revoked at another node. */
    boolean isRevokedRefreshToken(String value) {
        return jdbc.sql("select exists (select 1 from iam.revoked_token where jti = ?)")
                .param(refreshTokenKey(value)).query(Boolean.class).single();
    }

    /**
     * Our refresh tokens ({@link RotatingRefreshTokens}): 32 random bytes, base64url without padding,
     * so 43 characters. (This said 128, Spring's own generator's length, and listed none of ours.)
     */
    static final java.util.regex.Pattern REFRESH_TOKEN_SHAPE = java.util.regex.Pattern.compile("[A-Za-z0-9_-]{43}");

    static String refreshTokenKey(String value) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(value.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return "refresh:" + java.util.HexFormat.of().formatHex(digest);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    void revoke(String jti, Instant expiresAt) {
        jdbc.sql("insert into iam.revoked_token (jti, expires_at) values (?, ?) on conflict (jti) do nothing")
                .params(jti, Timestamp.from(expiresAt))
                .update();
        changes.changedHere();
        jdbc.sql("delete from iam.revoked_token where expires_at < ?")
                .param(Timestamp.from(clock.instant().minus(KEPT_AFTER_EXPIRY)))
                .update();
    }
}
