package health.carapace.signin.internal;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.util.Map;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.oauth2.server.authorization.OAuth2AuthorizationServerConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.OAuth2Token;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AuthorizationCodeRequestAuthenticationProvider;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AuthorizationCodeRequestAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenGenerator;
import org.springframework.security.web.authentication.LoginUrlAuthenticationEntryPoint;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;
import org.springframework.util.StringUtils;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * How people sign in through the authorization server: the authorization endpoint sends a
 * browser without a completed sign-in to {@code /login} (the request kept in a sealed cookie of
 * the browser, {@link AuthorizationRequestCookie}), accepts only
 * a {@link HumanLogin} (both factors), and ends the browser session as soon as it has issued the
 * code, so every code needs a fresh password and TOTP. Public sign-in apps are identified on the
 * refresh and revocation endpoints; access tokens carry the session ({@code sid}).
 */
public final class HumanSignIn {

    static final RequestMatcher AUTHORIZE = PathPatternRequestMatcher.withDefaults().matcher("/oauth2/authorize");

    private final PublicClientAuthentication publicClients;
    private final OAuth2TokenGenerator<OAuth2Token> tokenGenerator;
    /** The authorization request waiting for a sign-in: in the browser, sealed; nothing on the server (ADR 0042). */
    private final AuthorizationRequestCookie authorizationRequests;

    private final SmartAuthorizationRequests smartRequests;

    HumanSignIn(PublicClientAuthentication publicClients, OAuth2TokenGenerator<OAuth2Token> tokenGenerator,
            SmartAuthorizationRequests smartRequests, AuthorizationRequestCookie authorizationRequests) {
        this.publicClients = publicClients;
        this.tokenGenerator = tokenGenerator;
        this.smartRequests = smartRequests;
        this.authorizationRequests = authorizationRequests;
    }

    /** Applied to the authorization server's filter chain. */
    public void configure(OAuth2AuthorizationServerConfigurer server, HttpSecurity http) throws Exception {
        server.tokenGenerator(tokenGenerator)
                .clientAuthentication(client -> client
                        .authenticationConverter(publicClients)
                        .authenticationProvider(publicClients))
                .authorizationEndpoint(authorize -> authorize.authorizationResponseHandler(this::codeIssued)
                        // SMART scopes within the app's ceiling, aud, then Spring's checks (PKCE S256 among them)
                        .authenticationProviders(providers -> providers.forEach(provider -> {
                            if (provider instanceof OAuth2AuthorizationCodeRequestAuthenticationProvider codeRequests) {
                                codeRequests.setAuthenticationValidator(smartRequests);
                            }
                        })));
        // A browser session exists only between the password and the code; the authorization
        // endpoint never creates one (the waiting request is the browser's cookie), nor do the
        // token, JWKS and revocation endpoints.
        http.sessionManagement(session -> session.sessionCreationPolicy(SessionCreationPolicy.IF_REQUIRED))
                .requestCache(cache -> cache.requestCache(authorizationRequests))
                .exceptionHandling(exceptions -> exceptions.defaultAuthenticationEntryPointFor(
                        new LoginUrlAuthenticationEntryPoint("/login"), AUTHORIZE));
    }

    AuthorizationRequestCookie authorizationRequests() {
        return authorizationRequests;
    }

    /** Redirects with the code (and state), then ends the browser session: it has served its one purpose. */
    private void codeIssued(HttpServletRequest request, HttpServletResponse response, Authentication authentication)
            throws IOException {
        var issued = (OAuth2AuthorizationCodeRequestAuthenticationToken) authentication;
        UriComponentsBuilder uri = UriComponentsBuilder.fromUriString(issued.getRedirectUri())
                .queryParam("code", "{code}");
        Map<String, String> values = new java.util.HashMap<>(Map.of("code", issued.getAuthorizationCode().getTokenValue()));
        if (StringUtils.hasText(issued.getState())) {
            uri.queryParam("state", "{state}");
            values.put("state", issued.getState());
        }
        HttpSession session = request.getSession(false);
        if (session != null) {
            session.invalidate();
        }
        authorizationRequests.removeRequest(request, response);
        response.setHeader("Cache-Control", "no-store");
        response.sendRedirect(uri.encode().buildAndExpand(values).toUriString());
    }
}
