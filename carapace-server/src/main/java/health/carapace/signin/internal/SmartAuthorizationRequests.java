package health.carapace.signin.internal;

import health.carapace.access.AppScope;
import java.util.Collection;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AuthorizationCodeRequestAuthenticationContext;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AuthorizationCodeRequestAuthenticationException;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AuthorizationCodeRequestAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AuthorizationCodeRequestAuthenticationValidator;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;

/**
 * Checks an authorization request's scopes against SMART App Launch 2.0 and the app's scope
 * ceiling, then runs Spring's own checks (grant type, redirect URI, PKCE S256, prompt) unchanged.
 * Spring's scope check compares strings with the registered scopes, which cannot express
 * {@code patient/Observation.rs} under a ceiling of {@code patient/*.rs}; so every requested scope
 * is checked here (known grammar, within the ceiling) and Spring's check is then shown the
 * requested scopes as the registered ones.
 *
 * <ul>
 * <li>The redirect URI is checked first: an error about anything else may then go to it.</li>
 * <li>A plain sign-in app (no ceiling) may ask for no scope at all ({@code invalid_scope}).</li>
 * <li>A SMART app must ask for at least one scope, each known and within its ceiling
 * ({@code invalid_scope}), and name this server's FHIR base as {@code aud}
 * ({@code invalid_request}), so that a token meant for another server is never issued here.</li>
 * </ul>
 */
final class SmartAuthorizationRequests implements Consumer<OAuth2AuthorizationCodeRequestAuthenticationContext> {

    private final Consumer<OAuth2AuthorizationCodeRequestAuthenticationContext> springChecks =
            new OAuth2AuthorizationCodeRequestAuthenticationValidator();
    private final java.util.function.Supplier<String> fhirBase;

    /** @param fhirBase this server's FHIR base URL ({@code https://host/fhir}), once the port is known */
    SmartAuthorizationRequests(java.util.function.Supplier<String> fhirBase) {
        this.fhirBase = fhirBase;
    }

    @Override
    public void accept(OAuth2AuthorizationCodeRequestAuthenticationContext context) {
        OAuth2AuthorizationCodeRequestAuthenticationValidator.DEFAULT_REDIRECT_URI_VALIDATOR.accept(context);
        OAuth2AuthorizationCodeRequestAuthenticationToken request = context.getAuthentication();
        RegisteredClient client = context.getRegisteredClient();
        Set<String> requested = request.getScopes();
        Set<String> ceiling = client.getScopes();
        for (String scope : requested) {
            if (!AppScope.known(scope) || !withinCeiling(scope, ceiling)) {
                throw refusal(OAuth2ErrorCodes.INVALID_SCOPE, request, client);
            }
        }
        if (!ceiling.isEmpty()) {
            if (requested.isEmpty()) {
                throw refusal(OAuth2ErrorCodes.INVALID_SCOPE, request, client);
            }
            Object aud = request.getAdditionalParameters().get("aud");
            if (!(aud instanceof String audience) || !sameBase(audience)) {
                throw refusal(OAuth2ErrorCodes.INVALID_REQUEST, request, client);
            }
        }
        RegisteredClient asked = RegisteredClient.from(client).scopes(s -> {
            s.clear();
            s.addAll(requested);
        }).build();
        springChecks.accept(OAuth2AuthorizationCodeRequestAuthenticationContext.with(request).registeredClient(asked).build());
    }

    private boolean sameBase(String audience) {
        String trimmed = audience.endsWith("/") ? audience.substring(0, audience.length() - 1) : audience;
        return fhirBase.get().equals(trimmed);
    }

    /**
     * Whether a requested scope is within the ceiling: named there exactly, or a resource scope
     * whose context matches a ceiling scope that names the same type (or {@code *}), at least the
     * same permissions, and no query or the same query.
     */
    static boolean withinCeiling(String scope, Collection<String> ceiling) {
        if (ceiling.contains(scope)) {
            return true;
        }
        Optional<AppScope.ResourceScope> asked = AppScope.parseResource(scope);
        if (asked.isEmpty()) {
            return false;
        }
        for (String allowed : ceiling) {
            Optional<AppScope.ResourceScope> most = AppScope.parseResource(allowed);
            if (most.isPresent() && most.get().context() == asked.get().context()
                    && ("*".equals(most.get().type()) || most.get().type().equals(asked.get().type()))
                    && most.get().permissions().containsAll(asked.get().permissions())
                    && (most.get().query() == null || most.get().query().equals(asked.get().query()))) {
                return true;
            }
        }
        return false;
    }

    private static OAuth2AuthorizationCodeRequestAuthenticationException refusal(String code,
            OAuth2AuthorizationCodeRequestAuthenticationToken request, RegisteredClient client) {
        // The redirect URI is verified by now: the app learns the error at its redirect, with its state.
        String redirectUri = request.getRedirectUri() != null ? request.getRedirectUri()
                : client.getRedirectUris().size() == 1 ? client.getRedirectUris().iterator().next() : null;
        OAuth2AuthorizationCodeRequestAuthenticationToken result = new OAuth2AuthorizationCodeRequestAuthenticationToken(
                request.getAuthorizationUri(), request.getClientId(), (Authentication) request.getPrincipal(),
                redirectUri, request.getState(), request.getScopes(), request.getAdditionalParameters());
        return new OAuth2AuthorizationCodeRequestAuthenticationException(new OAuth2Error(code), result);
    }
}
