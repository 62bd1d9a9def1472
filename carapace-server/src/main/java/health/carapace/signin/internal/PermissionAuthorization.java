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

    /** Every one of {@code permissions}, each granted now by some role of the caller. */
    AuthorizationManager<RequestAuthorizationContext> requires(String... permissions) {
        return new AuthorizationManager<>() {
            @Override
            public AuthorizationResult authorize(Supplier<? extends Authentication> authentication,
                    RequestAuthorizationContext context) {
                boolean all = permissions.length > 0;
                for (String permission : permissions) {
                    all &= granted(context.getRequest(), permission);
                }
                return new AuthorizationDecision(all);
            }
        };
    }

    boolean granted(HttpServletRequest request, String permission) {
        return Callers.of(request)
                .map(caller -> policy.grants(caller, permission, clientAddress.resolve(request), clock.instant()))
                .orElse(false);
    }
}
