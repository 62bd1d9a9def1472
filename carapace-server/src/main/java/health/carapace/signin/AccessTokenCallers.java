package health.carapace.signin;

import health.carapace.access.Caller;
import java.util.Optional;

/**
 * The caller an access token issued by this server speaks for, answered exactly as the API's
 * bearer-token check answers it (signature, issuer, expiry, then the directory: the token not
 * revoked, the session open, the account enabled, the roles held now). For apps that the server
 * runs itself and that keep their tokens server-side, such as the console: they ask this instead
 * of re-implementing any part of it.
 */
public interface AccessTokenCallers {

    /** The live caller, or empty for a token that is malformed, expired, revoked or no longer anyone's. */
    Optional<Caller> caller(String accessToken);
}
