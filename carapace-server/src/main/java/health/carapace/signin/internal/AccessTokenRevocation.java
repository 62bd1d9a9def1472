package health.carapace.signin.internal;

import java.util.List;
import java.util.UUID;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.OAuth2AccessToken;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2TokenRevocationAuthenticationToken;

/**
 * The revocation endpoint (RFC 7009) for access tokens. Spring's provider only invalidates the
 * token in this node's memory, which no request ever consults for a self-contained JWT, and
 * finds nothing on another node or after a restart. Here an access token is recognised by
 * verifying it, must have been issued to the requesting client (its audience; another client's
 * token is refused with {@code invalid_client} and stays valid), and its id goes to the shared
 * deny list ({@link RevokedTokens}). A person's token also ends the sign-in session it belongs
 * to (sign-out), so its refresh token dies with it. Anything that is not a valid access token of
 * this server (a refresh token, an expired or foreign value) is left to Spring's provider.
 */
final class AccessTokenRevocation implements AuthenticationProvider {

    private final AuthenticationProvider refreshTokens;
    private final JwtDecoder verifier;
    private final RevokedTokens revoked;
    private final SessionEndings sessions;
    /** No refresh token outlives its session's maximum lifetime. */
    private final java.time.Duration refreshTokensUsableFor;

    AccessTokenRevocation(AuthenticationProvider refreshTokens, JwtDecoder verifier, RevokedTokens revoked,
            SessionEndings sessions, java.time.Duration refreshTokensUsableFor) {
        this.refreshTokensUsableFor = refreshTokensUsableFor;
        this.refreshTokens = refreshTokens;
        this.verifier = verifier;
        this.revoked = revoked;
        this.sessions = sessions;
    }

    @Override
    public Authentication authenticate(Authentication authentication) {
        var request = (OAuth2TokenRevocationAuthenticationToken) authentication;
        Jwt jwt;
        try {
            jwt = verifier.decode(request.getToken());
        } catch (JwtException notAValidAccessToken) {
            Authentication result = refreshTokens.authenticate(authentication);
            // Spring revokes only what this node's memory holds; the node that issued a refresh
            // token may be another one (or this one before a restart), so it is listed for all.
            revoked.revokeRefreshToken(request.getToken(), refreshTokensUsableFor);
            return result;
        }
        if (!(request.getPrincipal() instanceof OAuth2ClientAuthenticationToken client) || !client.isAuthenticated()
                || client.getRegisteredClient() == null
                || !List.of(client.getRegisteredClient().getClientId()).equals(jwt.getAudience())) {
            throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_CLIENT);
        }
        if (jwt.getId() != null && jwt.getExpiresAt() != null) {
            revoked.revoke(jwt.getId(), jwt.getExpiresAt());
        }
        if ("user".equals(jwt.getClaimAsString("kind"))) {
            sessionOf(jwt).ifPresent(session -> sessions.end(session, jwt.getSubject(),
                    StoredAuthorizations.Ending.REVOKED));
        }
        return new OAuth2TokenRevocationAuthenticationToken(new OAuth2AccessToken(OAuth2AccessToken.TokenType.BEARER,
                jwt.getTokenValue(), jwt.getIssuedAt(), jwt.getExpiresAt()), client);
    }

    private static java.util.Optional<UUID> sessionOf(Jwt jwt) {
        try {
            return java.util.Optional.of(UUID.fromString(String.valueOf(jwt.getClaimAsString("sid"))));
        } catch (IllegalArgumentException malformed) {
            return java.util.Optional.empty();
        }
    }

    @Override
    public boolean supports(Class<?> authentication) {
        return OAuth2TokenRevocationAuthenticationToken.class.isAssignableFrom(authentication);
    }
}
