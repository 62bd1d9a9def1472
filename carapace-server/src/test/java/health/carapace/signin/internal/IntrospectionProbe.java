package health.carapace.signin.internal;

import java.util.Map;
import org.springframework.context.ApplicationContext;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2TokenIntrospectionAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;

/**
 * The introspection endpoint's provider, called as the endpoint calls it, for clients that cannot
 * authenticate over HTTP (a disabled client, a login app: a public client) — the answer for their
 * tokens must still be the API's. Built from the running server's beans, not stand-ins.
 */
public final class IntrospectionProbe {

    private final OAuth2ClientAuthenticationToken client;
    private final AccessTokenIntrospection provider;

    private IntrospectionProbe(OAuth2ClientAuthenticationToken client, AccessTokenIntrospection provider) {
        this.client = client;
        this.provider = provider;
    }

    /** The endpoint as this client, authenticated now (it may be disabled afterwards). */
    public static IntrospectionProbe asClient(ApplicationContext context, String clientId) {
        var registered = context.getBean(RegisteredClientRepository.class).findByClientId(clientId);
        if (registered == null) {
            throw new IllegalArgumentException("no such client");
        }
        return new IntrospectionProbe(
                new OAuth2ClientAuthenticationToken(registered, ClientAuthenticationMethod.CLIENT_SECRET_BASIC, null),
                new AccessTokenIntrospection(context.getBean(JwtDecoder.class), context.getBean(LiveAccessTokens.class)));
    }

    /** The claims the endpoint would answer this client for {@code token}. */
    public Map<String, Object> introspect(String token) {
        var answer = (OAuth2TokenIntrospectionAuthenticationToken) provider.authenticate(
                new OAuth2TokenIntrospectionAuthenticationToken(token, client, null, Map.of()));
        return answer.getTokenClaims().getClaims();
    }
}
