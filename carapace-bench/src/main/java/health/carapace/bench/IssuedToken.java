package health.carapace.bench;

import java.time.Duration;
import java.util.Objects;

/** An access token as a token endpoint returned it: the token and how long it lives. */
record IssuedToken(String accessToken, Duration lifetime) {

    IssuedToken {
        Objects.requireNonNull(accessToken, "accessToken");
        if (lifetime.isNegative() || lifetime.isZero()) {
            throw new IllegalArgumentException("token lifetime must be positive");
        }
    }

    @Override
    public String toString() {
        // Never print the token itself: reports and logs are shared.
        return "IssuedToken[lifetime=" + lifetime + "]";
    }
}
