package health.carapace.signin.internal;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.endpoint.OAuth2ParameterNames;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.web.authentication.AuthenticationConverter;

/**
 * Identifies a public sign-in app (no secret) on a refresh-token grant or a revocation request by
 * its {@code client_id}, as OAuth 2.1 allows for public clients. Spring's authorization server
 * authenticates public clients only on the code grant (through PKCE). What keeps a stolen refresh
 * token from being useful long is elsewhere: it is bound to the app that received it, used once
 * (rotation; a replay ends the session), and dies with the session (idle timeout, logout,
 * revocation, disabled account).
 */
final class PublicClientAuthentication implements AuthenticationConverter, AuthenticationProvider {

    /** Marks the tokens this provider handles, so Spring's PKCE provider never sees them. */
    static final class PublicClientToken extends OAuth2ClientAuthenticationToken {
        private static final long serialVersionUID = 1L;

        PublicClientToken(String clientId) {
            super(clientId, ClientAuthenticationMethod.NONE, null, null);
        }
    }

    private final RegisteredClientRepository clients;

    PublicClientAuthentication(RegisteredClientRepository clients) {
        this.clients = clients;
    }

    @Override
    public Authentication convert(HttpServletRequest request) {
        if (!"POST".equals(request.getMethod()) || request.getHeader("Authorization") != null
                || request.getParameter(OAuth2ParameterNames.CLIENT_SECRET) != null
                || request.getParameterValues(OAuth2ParameterNames.CLIENT_ID) == null
                || request.getParameterValues(OAuth2ParameterNames.CLIENT_ID).length != 1) {
            return null;
        }
        boolean refresh = AuthorizationGrantType.REFRESH_TOKEN.getValue()
                .equals(request.getParameter(OAuth2ParameterNames.GRANT_TYPE));
        boolean revocation = request.getRequestURI().endsWith("/oauth2/revoke");
        if (!refresh && !revocation) {
            return null;
        }
        return new PublicClientToken(request.getParameter(OAuth2ParameterNames.CLIENT_ID));
    }

    @Override
    public Authentication authenticate(Authentication authentication) {
        String clientId = (String) authentication.getPrincipal();
        RegisteredClient client = clients.findByClientId(clientId);
        if (client == null || !client.getClientAuthenticationMethods().contains(ClientAuthenticationMethod.NONE)) {
            throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_CLIENT);
        }
        return new OAuth2ClientAuthenticationToken(client, ClientAuthenticationMethod.NONE, null);
    }

    @Override
    public boolean supports(Class<?> authentication) {
        return PublicClientToken.class.isAssignableFrom(authentication);
    }
}
