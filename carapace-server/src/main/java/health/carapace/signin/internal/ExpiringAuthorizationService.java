package health.carapace.signin.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import java.security.Principal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.springframework.security.oauth2.core.OAuth2Token;
import org.springframework.security.oauth2.core.endpoint.OAuth2ParameterNames;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationCode;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;

/**
 * Keeps issued authorizations only as long as their tokens live (Spring's in-memory service keeps
 * every client-credentials authorization forever, a memory leak under load), and watches the
 * sign-in sessions behind them:
 * <ul>
 *   <li>a refresh or access token invalidated by revocation (logout) or by the reuse of an
 *       authorization code ends its session;</li>
 *   <li>a refresh token that was already rotated and comes back (a replay, so one of the two
 *       holders is a thief) is refused and ends its session.</li>
 * </ul>
 * Authorizations live in memory: a restart ends every sign-in (people sign in again; the
 * sessions' rows stay as the record).
 */
final class ExpiringAuthorizationService implements OAuth2AuthorizationService {

    /** Why a session is being ended. */
    enum Ending { REVOKED, REPLAYED }

    private record Entry(String id, Instant expiresAt) {}

    private static final OAuth2TokenType CODE = new OAuth2TokenType(OAuth2ParameterNames.CODE);

    private final Duration fallbackLifetime;
    private final BiConsumer<HumanLogin, Ending> sessionEnded;
    /** Whether another node (or this one before a restart) was asked to revoke a refresh token. */
    private final java.util.function.Predicate<String> refreshTokenRevokedElsewhere;
    private final Cache<String, OAuth2Authorization> byId;
    private final Cache<String, Entry> idByToken;
    private final Cache<String, Entry> retiredRefreshTokens;

    ExpiringAuthorizationService(Duration fallbackLifetime, BiConsumer<HumanLogin, Ending> sessionEnded,
            java.util.function.Predicate<String> refreshTokenRevokedElsewhere) {
        this.refreshTokenRevokedElsewhere = refreshTokenRevokedElsewhere;
        this.fallbackLifetime = fallbackLifetime;
        this.sessionEnded = sessionEnded;
        this.byId = Caffeine.newBuilder().expireAfter(Expiry.<String, OAuth2Authorization>writing(
                (id, authorization) -> remaining(expiryOf(authorization)))).build();
        this.idByToken = Caffeine.newBuilder().expireAfter(Expiry.<String, Entry>writing(
                (token, entry) -> remaining(entry.expiresAt()))).build();
        this.retiredRefreshTokens = Caffeine.newBuilder().expireAfter(Expiry.<String, Entry>writing(
                (token, entry) -> remaining(entry.expiresAt()))).build();
    }

    @Override
    public void save(OAuth2Authorization authorization) {
        OAuth2Authorization previous = byId.getIfPresent(authorization.getId());
        Instant expiresAt = expiryOf(authorization);
        byId.put(authorization.getId(), authorization);
        for (OAuth2Token token : tokensOf(authorization)) {
            idByToken.put(token.getTokenValue(), new Entry(authorization.getId(), expiresAt));
        }
        if (previous != null && previous.getRefreshToken() != null) {
            String old = previous.getRefreshToken().getToken().getTokenValue();
            if (authorization.getRefreshToken() == null
                    || !old.equals(authorization.getRefreshToken().getToken().getTokenValue())) {
                idByToken.invalidate(old);
                retiredRefreshTokens.put(old, new Entry(authorization.getId(), expiresAt));
            }
        }
        if (newlyInvalidated(previous == null ? null : previous.getRefreshToken(), authorization.getRefreshToken())
                || newlyInvalidated(previous == null ? null : previous.getAccessToken(), authorization.getAccessToken())) {
            loginOf(authorization).ifPresent(login -> sessionEnded.accept(login, Ending.REVOKED));
        }
    }

    /**
     * A token of the authorization was revoked (RFC 7009), or invalidated because its code was
     * reused. A person's access token is self-contained, so revoking it means ending its session.
     */
    private static boolean newlyInvalidated(OAuth2Authorization.Token<?> before, OAuth2Authorization.Token<?> now) {
        if (now == null || !now.isInvalidated()) {
            return false;
        }
        return before == null || !before.getToken().getTokenValue().equals(now.getToken().getTokenValue())
                || !before.isInvalidated();
    }

    @Override
    public void remove(OAuth2Authorization authorization) {
        byId.invalidate(authorization.getId());
        tokensOf(authorization).forEach(token -> idByToken.invalidate(token.getTokenValue()));
    }

    @Override
    public OAuth2Authorization findById(String id) {
        return byId.getIfPresent(id);
    }

    @Override
    public OAuth2Authorization findByToken(String token, OAuth2TokenType tokenType) {
        if (token == null) {
            return null;
        }
        Entry entry = idByToken.getIfPresent(token);
        if (entry == null) {
            if (tokenType == null || OAuth2TokenType.REFRESH_TOKEN.equals(tokenType)) {
                Entry retired = retiredRefreshTokens.getIfPresent(token);
                if (retired != null) {
                    retiredRefreshTokens.invalidate(token);
                    OAuth2Authorization authorization = byId.getIfPresent(retired.id());
                    if (authorization != null) {
                        loginOf(authorization).ifPresent(login -> sessionEnded.accept(login, Ending.REPLAYED));
                    }
                }
            }
            return null;
        }
        OAuth2Authorization authorization = byId.getIfPresent(entry.id());
        if (authorization == null || !holds(authorization, token, tokenType)) {
            return null;
        }
        if (authorization.getRefreshToken() != null
                && token.equals(authorization.getRefreshToken().getToken().getTokenValue())
                && refreshTokenRevokedElsewhere.test(token)) {
            // Revoked at a node that did not hold it: the revocation holds here, and ends the session.
            remove(authorization);
            loginOf(authorization).ifPresent(login -> sessionEnded.accept(login, Ending.REVOKED));
            return null;
        }
        return authorization;
    }

    private static boolean holds(OAuth2Authorization authorization, String token, OAuth2TokenType tokenType) {
        if (tokenType == null) {
            return tokensOf(authorization).stream().anyMatch(t -> t.getTokenValue().equals(token));
        }
        OAuth2Authorization.Token<?> held = OAuth2TokenType.ACCESS_TOKEN.equals(tokenType) ? authorization.getAccessToken()
                : OAuth2TokenType.REFRESH_TOKEN.equals(tokenType) ? authorization.getRefreshToken()
                : CODE.equals(tokenType) ? authorization.getToken(OAuth2AuthorizationCode.class)
                : null;
        return held != null && held.getToken().getTokenValue().equals(token);
    }

    private static List<OAuth2Token> tokensOf(OAuth2Authorization authorization) {
        List<OAuth2Token> tokens = new ArrayList<>();
        if (authorization.getAccessToken() != null) {
            tokens.add(authorization.getAccessToken().getToken());
        }
        if (authorization.getRefreshToken() != null) {
            tokens.add(authorization.getRefreshToken().getToken());
        }
        OAuth2Authorization.Token<OAuth2AuthorizationCode> code = authorization.getToken(OAuth2AuthorizationCode.class);
        if (code != null) {
            tokens.add(code.getToken());
        }
        return tokens;
    }

    private Instant expiryOf(OAuth2Authorization authorization) {
        Instant latest = null;
        for (OAuth2Token token : tokensOf(authorization)) {
            if (token.getExpiresAt() != null && (latest == null || token.getExpiresAt().isAfter(latest))) {
                latest = token.getExpiresAt();
            }
        }
        return latest != null ? latest : Instant.now().plus(fallbackLifetime);
    }

    private static Duration remaining(Instant expiresAt) {
        Duration left = Duration.between(Instant.now(), expiresAt);
        return left.isNegative() ? Duration.ZERO : left;
    }

    private static java.util.Optional<HumanLogin> loginOf(OAuth2Authorization authorization) {
        Object principal = authorization.getAttribute(Principal.class.getName());
        return principal instanceof HumanLogin login ? java.util.Optional.of(login) : java.util.Optional.empty();
    }
}
