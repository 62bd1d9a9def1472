package health.carapace.signin.internal;

import health.carapace.access.Caller;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.oauth2.jwt.Jwt;

/**
 * Whether a verified access token still speaks for someone, and for whom: the one answer that the
 * API ({@link CallerResolution}) and the introspection endpoint ({@link AccessTokenIntrospection})
 * both give, so that no surface can call a token live that the other refuses. The signature,
 * its canonical form, the issuer and the expiry are the {@code JwtDecoder}'s part; this is the
 * directory's: the token's id not revoked ({@link RevokedTokens}), a service client not disabled,
 * a person's sign-in session open and their account not disabled. One query per token.
 */
final class LiveAccessTokens {

    private final JdbcClient jdbc;
    private final java.time.Clock clock;

    LiveAccessTokens(DataSource dataSource, java.time.Clock clock) {
        this.jdbc = JdbcClient.create(dataSource);
        this.clock = clock;
    }

    /** Whether the token was issued to a person (rather than to a service client). */
    static boolean ofPerson(Jwt token) {
        return "user".equals(token.getClaimAsString("kind"));
    }

    /** The caller a token verified by the {@code JwtDecoder} acts for, if it is still live. */
    Optional<Caller> caller(Jwt token) {
        // Every token the server issues has an id; one without cannot be revoked, so it is refused.
        String tokenId = token.getId();
        if (tokenId == null || tokenId.isBlank() || token.getSubject() == null) {
            return Optional.empty();
        }
        return ofPerson(token) ? user(token, tokenId) : serviceClient(token.getSubject(), tokenId);
    }

    /**
     * A person: the token's sign-in session must be open (not revoked, not idle past the timeout,
     * not past its maximum lifetime), belong to the token's subject, and its user not be disabled;
     * the token itself must not be revoked.
     */
    private Optional<Caller> user(Jwt token, String tokenId) {
        UUID sessionId;
        try {
            sessionId = UUID.fromString(String.valueOf(token.getClaimAsString("sid")));
        } catch (IllegalArgumentException malformed) {
            return Optional.empty();
        }
        Timestamp now = Timestamp.from(clock.instant());
        return jdbc.sql("""
                select u.user_name, u.roles, u.practitioner_id from iam.session s join iam.app_user u on u.id = s.user_id
                where s.id = ? and s.revoked_at is null and s.idle_expires_at > ? and s.absolute_expires_at > ?
                  and not u.disabled and lower(u.user_name) = lower(?) and %s""".formatted(RevokedTokens.NOT_REVOKED))
                .params(sessionId, now, now, token.getSubject(), tokenId)
                .query((rs, n) -> new Caller(rs.getString(1), Caller.Kind.USER,
                        Set.of((String[]) rs.getArray(2).getArray()), rs.getString(3)))
                .optional();
    }

    /** A service client: not disabled, and the token not revoked. */
    private Optional<Caller> serviceClient(String clientId, String tokenId) {
        return jdbc.sql("select roles from iam.service_client where client_id = ? and not disabled and "
                        + RevokedTokens.NOT_REVOKED)
                .params(clientId, tokenId)
                .query((rs, n) -> new Caller(clientId, Caller.Kind.SERVICE_CLIENT,
                        Set.of((String[]) rs.getArray(1).getArray()), null))
                .optional();
    }
}
