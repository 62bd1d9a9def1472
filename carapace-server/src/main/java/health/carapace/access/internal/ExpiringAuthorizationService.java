package health.carapace.access.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;

/**
 * Keeps issued authorizations only as long as their tokens live. Spring's in-memory service
 * keeps every client-credentials authorization forever, which is a memory leak under load.
 */
final class ExpiringAuthorizationService implements OAuth2AuthorizationService {

    private final Cache<String, OAuth2Authorization> byId;
    private final Cache<String, String> idByToken;

    ExpiringAuthorizationService(Duration lifetime) {
        this.byId = Caffeine.newBuilder().expireAfterWrite(lifetime).build();
        this.idByToken = Caffeine.newBuilder().expireAfterWrite(lifetime).build();
    }

    @Override
    public void save(OAuth2Authorization authorization) {
        byId.put(authorization.getId(), authorization);
        if (authorization.getAccessToken() != null) {
            idByToken.put(authorization.getAccessToken().getToken().getTokenValue(), authorization.getId());
        }
    }

    @Override
    public void remove(OAuth2Authorization authorization) {
        byId.invalidate(authorization.getId());
        if (authorization.getAccessToken() != null) {
            idByToken.invalidate(authorization.getAccessToken().getToken().getTokenValue());
        }
    }

    @Override
    public OAuth2Authorization findById(String id) {
        return byId.getIfPresent(id);
    }

    @Override
    public OAuth2Authorization findByToken(String token, OAuth2TokenType tokenType) {
        if (tokenType != null && !OAuth2TokenType.ACCESS_TOKEN.equals(tokenType)) {
            return null;
        }
        String id = idByToken.getIfPresent(token);
        return id == null ? null : byId.getIfPresent(id);
    }
}
