package health.carapace.signin.internal;

import health.carapace.access.ClientAddress;
import java.time.Duration;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientAuthenticationToken;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * Client-secret authentication (token, revocation and introspection endpoints) behind the
 * {@link LoginThrottle}: per client id from one address (the long back-off), per client id over
 * all addresses (a short rate limit) and per client address. A throttled attempt is refused
 * before the secret is looked at, so it costs no Argon2id hash and says nothing about the secret
 * (the right one is refused the same way). Each attempt let through is reserved, counted as a
 * failure, before its check, so a burst of concurrent attempts gets no more checks than the limit;
 * a client that authenticates resets its counters. Public clients (no secret) are not concerned.
 */
final class ThrottledClientSecrets implements AuthenticationProvider {

    /** The OAuth2 error code of a throttled request (RFC 8628's "slow down", answered with 429). */
    static final String SLOW_DOWN = "slow_down";

    /** A request refused by the throttle, before its secret was checked. */
    static final class Throttled extends OAuth2AuthenticationException {
        private static final long serialVersionUID = 1L;

        private final long retryAfterSeconds;

        Throttled(Duration wait) {
            super(new OAuth2Error(SLOW_DOWN));
            // Whole seconds, rounded up: a client that waits as told is not refused again.
            this.retryAfterSeconds = Math.max(1, wait.plusMillis(999).toSeconds());
        }

        long retryAfterSeconds() {
            return retryAfterSeconds;
        }
    }

    private final AuthenticationProvider secrets;
    private final LoginThrottle throttle;
    private final ClientAddress addresses;

    /** @param secrets Spring's client-secret provider, which runs the Argon2id check */
    ThrottledClientSecrets(AuthenticationProvider secrets, LoginThrottle throttle, ClientAddress addresses) {
        this.secrets = secrets;
        this.throttle = throttle;
        this.addresses = addresses;
    }

    @Override
    public Authentication authenticate(Authentication authentication) {
        var attempt = (OAuth2ClientAuthenticationToken) authentication;
        if (!ClientAuthenticationMethod.CLIENT_SECRET_BASIC.equals(attempt.getClientAuthenticationMethod())
                && !ClientAuthenticationMethod.CLIENT_SECRET_POST.equals(attempt.getClientAuthenticationMethod())) {
            return secrets.authenticate(authentication);
        }
        String clientId = String.valueOf(attempt.getPrincipal());
        String address = address();
        // Counted as a failure before the check, so attempts in flight together cannot all be checked.
        Duration wait = throttle.reserveClientAttempt(clientId, address);
        if (!wait.isZero()) {
            throw new Throttled(wait);
        }
        Authentication authenticated = secrets.authenticate(authentication);
        if (authenticated != null) {
            throttle.clientSucceeded(clientId, address);
        }
        return authenticated;
    }

    @Override
    public boolean supports(Class<?> authentication) {
        return secrets.supports(authentication);
    }

    /** The real client address (trusted proxies honoured), as the sign-in pages count it. */
    private String address() {
        if (!(RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes servlet)) {
            throw new IllegalStateException("client authentication outside an HTTP request");
        }
        return addresses.resolve(servlet.getRequest()).getHostAddress();
    }
}
