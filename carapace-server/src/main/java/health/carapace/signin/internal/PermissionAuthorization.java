package health.carapace.signin.internal;

import health.carapace.access.AccessPolicy;
import health.carapace.access.Callers;
import health.carapace.access.ClientAddress;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Clock;
import java.util.function.Supplier;
import org.springframework.security.authorization.AuthorizationDecision;
import org.springframework.security.authorization.AuthorizationManager;
import org.springframework.security.authorization.AuthorizationResult;
import org.springframework.security.core.Authentication;
import org.springframework.security.web.access.intercept.RequestAuthorizationContext;

/**
 * Authorizes an admin route by a permission that a role of the caller grants now, from this
 * address ({@link AccessPolicy#grants}): the same roles, time windows and IP ranges as the FHIR
 * API, instead of OAuth2 scopes fixed in a token. No resolved caller (no valid token): refused.
 */
final class PermissionAuthorization {

    private final AccessPolicy policy;
    private final ClientAddress clientAddress;
    private final Clock clock;

    PermissionAuthorization(AccessPolicy policy, ClientAddress clientAddress, Clock clock) {
        this.policy = policy;
        this.clientAddress = clientAddress;
        this.clock = clock;
    }

    AuthorizationManager<RequestAuthorizationContext> requires(String permission) {
        return new AuthorizationManager<>() {
            @Override
            public AuthorizationResult authorize(Supplier<? extends Authentication> authentication,
                    RequestAuthorizationContext context) {
                return new AuthorizationDecision(granted(context.getRequest(), permission));
            }
        };
    }

    boolean granted(HttpServletRequest request, String permission) {
        return Callers.of(request)
                .map(caller -> policy.grants(caller, permission, clientAddress.resolve(request), clock.instant()))
                .orElse(false);
    }
}
