package health.carapace.signin.internal;

import health.carapace.access.Caller;
import health.carapace.signin.AccessTokenCallers;
import java.util.Optional;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.stereotype.Component;

/** The API's two steps, in the API's order: the {@code JwtDecoder}, then {@link LiveAccessTokens}. */
@Component
class LiveAccessTokenCallers implements AccessTokenCallers {

    private final JwtDecoder decoder;
    private final LiveAccessTokens live;

    LiveAccessTokenCallers(JwtDecoder decoder, LiveAccessTokens live) {
        this.decoder = decoder;
        this.live = live;
    }

    @Override
    public Optional<Caller> caller(String accessToken) {
        if (accessToken == null || accessToken.isEmpty()) {
            return Optional.empty();
        }
        try {
            return live.caller(decoder.decode(accessToken));
        } catch (JwtException notLive) {
            return Optional.empty();
        }
    }
}
