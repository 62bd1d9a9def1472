package health.carapace.signin.internal;

import java.io.Serializable;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a person approved on the consent page for one SMART app's authorization request: bound to
 * that request (review F8) — the app, exactly the scopes it asked for, its {@code redirect_uri},
 * {@code state}, {@code launch} and PKCE {@code code_challenge} as sent — so that the token
 * endpoint refuses a grant carried over to another request, even one of the same app with the same
 * scopes (another {@code code_challenge} is another party's request). Lives in the browser session until the code is issued, then in
 * the authorization (as part of {@link HumanLogin}).
 *
 * @param requested the scopes of the authorization request, sorted
 * @param granted the scopes the token will carry: the requested ones narrowed to the person's roles
 * @param patient the patient in context (a bare id), or null
 * @param practitionerId the person's Practitioner id, for {@code fhirUser}, or null
 * @param request the authorization request's own parameters, as sent (absent ones null)
 */
record SmartGrant(String clientId, List<String> requested, List<String> granted, String patient, String practitionerId,
        Request request) implements Serializable {

    /** The parameters that make one authorization request different from another of the same app. */
    record Request(String redirectUri, String state, String launch, String codeChallenge) implements Serializable {

        /** The parameters of an authorization request as Spring kept it. */
        static Request of(org.springframework.security.oauth2.core.endpoint.OAuth2AuthorizationRequest request) {
            java.util.Map<String, Object> extra = request.getAdditionalParameters();
            return new Request(request.getRedirectUri(), request.getState(), text(extra.get("launch")),
                    text(extra.get("code_challenge")));
        }

        private static String text(Object value) {
            return value instanceof String text ? text : null;
        }
    }

    SmartGrant {
        requested = List.copyOf(new TreeSet<>(requested));
        granted = List.copyOf(granted);
    }

    /** Whether this grant was made for this app, exactly these requested scopes, and this very request. */
    boolean answers(String client, Set<String> requestedScopes, Request authorizationRequest) {
        return clientId.equals(client) && requested.equals(List.copyOf(new TreeSet<>(requestedScopes)))
                && request != null && request.equals(authorizationRequest);
    }
}
