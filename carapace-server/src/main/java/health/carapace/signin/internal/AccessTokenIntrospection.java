package health.carapace.signin.internal;

import java.util.List;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.OAuth2AccessToken;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenIntrospection;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2TokenIntrospectionAuthenticationToken;

/**
 * The introspection endpoint (RFC 7662), answered from the same truth as the API: the token
 * verifies under the {@code JwtDecoder} (canonical signature, issuer, expiry) and
 * {@link LiveAccessTokens} finds it live (not revoked, client not disabled, a person's session
 * open). Spring's provider instead consulted this node's in-memory authorization store, which
 * knows nothing of the shared deny list, of disabled clients, of other nodes or of a restart.
 *
 * <p>A client learns only about its own tokens: a token whose audience is not exactly the
 * requesting client is answered {@code {"active":false}} (RFC 7662 §4 lets the server refuse to
 * disclose), so the endpoint is no oracle for other clients' tokens and hands out no one else's
 * claims. There is no resource-server role today that could introspect tokens issued to others;
 * giving one that right would be a new, explicit permission. Anything that is not a live access
 * token of the requesting client (a refresh token, an expired, revoked or foreign value) is
 * inactive: service clients hold no refresh tokens, and login apps are public clients that cannot
 * authenticate here.
 */
final class AccessTokenIntrospection implements AuthenticationProvider {

    private final JwtDecoder verifier;
    private final LiveAccessTokens live;

    AccessTokenIntrospection(JwtDecoder verifier, LiveAccessTokens live) {
        this.verifier = verifier;
        this.live = live;
    }

    @Override
    public Authentication authenticate(Authentication authentication) {
        var request = (OAuth2TokenIntrospectionAuthenticationToken) authentication;
        if (!(request.getPrincipal() instanceof OAuth2ClientAuthenticationToken client) || !client.isAuthenticated()
                || client.getRegisteredClient() == null) {
            throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_CLIENT);
        }
        String clientId = client.getRegisteredClient().getClientId();
        Jwt jwt;
        try {
            jwt = verifier.decode(request.getToken());
        } catch (JwtException notALiveAccessToken) {
            return answer(request, client, OAuth2TokenIntrospection.builder().build());
        }
        if (!List.of(clientId).equals(jwt.getAudience()) || live.callerNow(jwt).isEmpty()) {
            return answer(request, client, OAuth2TokenIntrospection.builder().build());
        }
        OAuth2TokenIntrospection.Builder claims = OAuth2TokenIntrospection.builder(true)
                .clientId(clientId)
                .tokenType(OAuth2AccessToken.TokenType.BEARER.getValue())
                .subject(jwt.getSubject())
                .audience(clientId)
                .issuedAt(jwt.getIssuedAt())
                .expiresAt(jwt.getExpiresAt())
                .id(jwt.getId());
        if (jwt.getNotBefore() != null) {
            claims.notBefore(jwt.getNotBefore());
        }
        if (jwt.getIssuer() != null) {
            claims.issuer(jwt.getIssuer().toString());
        }
        List<String> scopes = jwt.getClaimAsStringList("scope");
        if (scopes != null && !scopes.isEmpty()) {
            claims.scopes(list -> list.addAll(scopes));
        }
        return answer(request, client, claims.build());
    }

    private static Authentication answer(OAuth2TokenIntrospectionAuthenticationToken request,
            OAuth2ClientAuthenticationToken client, OAuth2TokenIntrospection claims) {
        return new OAuth2TokenIntrospectionAuthenticationToken(request.getToken(), client, claims);
    }

    @Override
    public boolean supports(Class<?> authentication) {
        return OAuth2TokenIntrospectionAuthenticationToken.class.isAssignableFrom(authentication);
    }
}
