package health.carapace.signin.internal;

import java.io.Serializable;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a person approved on the consent page for one SMART app's authorization request: bound to
 * the app and to exactly the scopes it asked for, so that the token endpoint can refuse a grant
 * carried over to another request. Lives in the browser session until the code is issued, then in
 * the authorization (as part of {@link HumanLogin}).
 *
 * @param requested the scopes of the authorization request, sorted
 * @param granted the scopes the token will carry: the requested ones narrowed to the person's roles
 * @param patient the patient in context (a bare id), or null
 * @param practitionerId the person's Practitioner id, for {@code fhirUser}, or null
 */
record SmartGrant(String clientId, List<String> requested, List<String> granted, String patient, String practitionerId)
        implements Serializable {

    SmartGrant {
        requested = List.copyOf(new TreeSet<>(requested));
        granted = List.copyOf(granted);
    }

    /** Whether this grant was made for this app and exactly these requested scopes. */
    boolean answers(String client, Set<String> requestedScopes) {
        return clientId.equals(client) && requested.equals(List.copyOf(new TreeSet<>(requestedScopes)));
    }
}
