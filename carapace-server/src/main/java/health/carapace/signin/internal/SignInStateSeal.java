package health.carapace.signin.internal;

import health.carapace.crypto.StateSeal;
import health.carapace.crypto.StateSeals;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * Seals the sign-in state that travels through browsers or that every node shares through the
 * database (the authorization request waiting for a sign-in, the sign-in pages' browser session
 * and its cookie, issued authorizations): AES-256-GCM under the keyring's {@code sign-in-state}
 * keyset, wrapped by the KEK, each value carrying its key's id, so that the key rotates without
 * signing anyone out (ADR 0042). A copy of the PHI database alone yields no token, no code and no
 * half-finished sign-in. Each use names its context as associated data, so a sealed value moved
 * from one place to another does not open.
 */
final class SignInStateSeal {

    static final String KEYSET = "sign-in-state";

    private final StateSeal seal;

    /**
     * @param valuesLiveFor the longest any sealed sign-in value is used: the session's maximum
     *     lifetime (an authorization lives as long as its refresh token); a replaced key opens that long
     */
    SignInStateSeal(StateSeals seals, Duration valuesLiveFor) {
        this.seal = seals.named(KEYSET, valuesLiveFor);
    }

    byte[] seal(byte[] plain, String context) {
        return seal.seal(plain, context.getBytes(StandardCharsets.UTF_8));
    }

    /** The plain bytes, or empty when the value was not sealed here for this context (or was altered). */
    Optional<byte[]> open(byte[] sealed, String context) {
        return opening(sealed, context).value();
    }

    /** The plain bytes, or why the value does not open (an unknown key id is told apart: it is audited as such). */
    StateSeal.Opening opening(byte[] sealed, String context) {
        if (sealed == null) {
            return StateSeal.Opening.refused(StateSeal.Refusal.NOT_AUTHENTIC);
        }
        return seal.open(sealed, context.getBytes(StandardCharsets.UTF_8));
    }
}
