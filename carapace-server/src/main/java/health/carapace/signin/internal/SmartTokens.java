package health.carapace.signin.internal;

import com.nimbusds.jwt.SignedJWT;
import health.carapace.access.AppScope;
import java.text.ParseException;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.oidc.endpoint.OidcParameterNames;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AccessTokenAuthenticationContext;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AccessTokenAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenCustomizer;

/**
 * The SMART parts of tokens. A token issued to a SMART app (one registered with a scope ceiling)
 * carries {@value #SMART_APP} = true, the granted scopes as {@code scope} (the requested ones
 * narrowed to the person's roles on the consent page, not the requested ones) and the patient in
 * context as {@code patient}; the API narrows every decision on it ({@link #appScope}). The token
 * response reports the granted {@code scope} and the {@code patient}; the id token (scope
 * {@code openid}) names the person's Practitioner as {@code fhirUser} when {@code fhirUser} was granted.
 */
final class SmartTokens {

    /** The claim that makes the API narrow the caller's roles to the token's scopes. */
    static final String SMART_APP = "smart_app";
    static final String PATIENT = "patient";

    private SmartTokens() {
    }

    static OAuth2TokenCustomizer<JwtEncodingContext> claims(java.util.function.Supplier<String> fhirBase) {
        return context -> {
            RegisteredClient client = context.getRegisteredClient();
            boolean smartApp = !client.getScopes().isEmpty();
            if (!smartApp) {
                return;
            }
            if (org.springframework.security.oauth2.core.AuthorizationGrantType.CLIENT_CREDENTIALS
                    .equals(context.getAuthorizationGrantType())) {
                // A backend service: its roles, narrowed to the system scopes it asked for (already in "scope").
                if (OAuth2TokenType.ACCESS_TOKEN.equals(context.getTokenType())) {
                    context.getClaims().claim(SMART_APP, true);
                }
                return;
            }
            if (!(context.getPrincipal() instanceof HumanLogin login)) {
                throw new OAuth2AuthenticationException(new OAuth2Error(OAuth2ErrorCodes.INVALID_GRANT));
            }
            // No token for a SMART app without the person's consent to exactly this request (F8).
            Optional<SmartGrant> grant = login.grant();
            var authorizationRequest = context.getAuthorization() == null ? null : context.getAuthorization()
                    .<org.springframework.security.oauth2.core.endpoint.OAuth2AuthorizationRequest>getAttribute(
                            org.springframework.security.oauth2.core.endpoint.OAuth2AuthorizationRequest.class.getName());
            if (grant.isEmpty() || authorizationRequest == null || !grant.get().answers(client.getClientId(),
                    context.getAuthorizedScopes(), SmartGrant.Request.of(authorizationRequest))) {
                throw new OAuth2AuthenticationException(new OAuth2Error(OAuth2ErrorCodes.INVALID_GRANT));
            }
            if (OAuth2TokenType.ACCESS_TOKEN.equals(context.getTokenType())) {
                context.getClaims().claim("scope", new LinkedHashSet<>(grant.get().granted())).claim(SMART_APP, true);
                if (grant.get().patient() != null) {
                    context.getClaims().claim(PATIENT, grant.get().patient());
                }
            } else if (OidcParameterNames.ID_TOKEN.equals(context.getTokenType().getValue())
                    && grant.get().granted().contains("fhirUser") && grant.get().practitionerId() != null) {
                context.getClaims().claim("fhirUser", fhirBase.get() + "/Practitioner/" + grant.get().practitionerId());
            }
        };
    }

    /** The token response of a SMART app's token: the granted scopes and the patient in context. */
    static Consumer<OAuth2AccessTokenAuthenticationContext> response() {
        return context -> {
            OAuth2AccessTokenAuthenticationToken issued = context.getAuthentication();
            Map<String, Object> claims;
            try {
                claims = SignedJWT.parse(issued.getAccessToken().getTokenValue()).getJWTClaimsSet().getClaims();
            } catch (ParseException notOurs) {
                return;
            }
            if (!Boolean.TRUE.equals(claims.get(SMART_APP))) {
                return;
            }
            Object scope = claims.get("scope");
            context.getAccessTokenResponse().scopes(scope instanceof List<?> list
                    ? new LinkedHashSet<>(list.stream().map(String::valueOf).toList()) : java.util.Set.of());
            Map<String, Object> parameters = new HashMap<>(issued.getAdditionalParameters());
            if (claims.get(PATIENT) instanceof String patient) {
                parameters.put(PATIENT, patient);
            }
            context.getAccessTokenResponse().additionalParameters(parameters);
        };
    }

    /** What the API lets this token's caller do beyond their roles: narrowed for a SMART app's token. */
    static AppScope appScope(Jwt token) {
        if (!Boolean.TRUE.equals(token.getClaimAsBoolean(SMART_APP))) {
            return AppScope.ROLES_ONLY;
        }
        List<String> scopes = token.getClaimAsStringList("scope");
        return AppScope.granted(scopes == null ? List.of() : scopes, token.getClaimAsString(PATIENT));
    }
}
