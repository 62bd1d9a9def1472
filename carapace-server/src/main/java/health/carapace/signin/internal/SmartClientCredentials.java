package health.carapace.signin.internal;

import health.carapace.access.AppScope;
import java.util.Set;
import java.util.function.Consumer;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientCredentialsAuthenticationContext;

/**
 * The scopes of a client-credentials request: a service client without a scope ceiling asks for
 * none (its roles decide, as before); one with a ceiling (SMART Backend Services) must ask for at
 * least one scope, each a {@code system/} resource scope without a query and within the ceiling
 * ({@code system/Patient.rs} under {@code system/*.rs}). Anything else is {@code invalid_scope}.
 */
final class SmartClientCredentials implements Consumer<OAuth2ClientCredentialsAuthenticationContext> {

    @Override
    public void accept(OAuth2ClientCredentialsAuthenticationContext context) {
        Set<String> requested = ((org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientCredentialsAuthenticationToken) context.getAuthentication()).getScopes();
        Set<String> ceiling = context.getRegisteredClient().getScopes();
        if (!ceiling.isEmpty() && requested.isEmpty()) {
            throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_SCOPE);
        }
        for (String scope : requested) {
            // Only system scopes the server can enforce (no query: it would need the plaintext first).
            boolean servableSystem = AppScope.parseResource(scope)
                    .filter(r -> r.context() == AppScope.Context.SYSTEM && r.servable()).isPresent();
            if (!servableSystem || !SmartAuthorizationRequests.withinCeiling(scope, ceiling)) {
                throw new OAuth2AuthenticationException(OAuth2ErrorCodes.INVALID_SCOPE);
            }
        }
    }
}
