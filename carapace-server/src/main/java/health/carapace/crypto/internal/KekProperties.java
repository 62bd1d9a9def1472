package health.carapace.crypto.internal;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Which key-encryption key to use.
 *
 * @param provider {@code pkcs11} (production) or {@code dev-keystore} (start-dev only)
 */
@ConfigurationProperties("carapace.kek")
record KekProperties(String provider, DevKeystore devKeystore, Pkcs11 pkcs11) {

    /** @param path directory holding {@code kek.p12} and its passphrase file */
    record DevKeystore(Path path) {}

    /**
     * @param library path of the PKCS#11 module, e.g. {@code /usr/lib/softhsm/libsofthsm2.so}
     * @param slotListIndex index of the token's slot in the module's slot list
     * @param pin user PIN of the token (set it through the environment, never a file in git)
     * @param keyLabel label of the AES-256 KEK object inside the token
     * @param reopenMaxInterval the longest wait between two attempts to open a lost HSM session again
     *     (attempts start 1 s apart and double up to this; the node is back within it once the HSM is)
     * @param refusedLoginRetry the wait after a login the token refused for the PIN, doubled after each
     * @param refusedLoginAttempts refused logins in a row, in the whole installation (every node and command), after
     *     which none is sent until an operator runs ./carapace keys reset-hsm-logins (ADR 0049)
     */
    record Pkcs11(String library, int slotListIndex, String pin, String keyLabel, Duration reopenMaxInterval,
            Duration refusedLoginRetry, Integer refusedLoginAttempts) {

        /** How a lost session is opened again (ADR 0045); unset values take {@link HsmSession.Recovery#DEFAULT}'s. */
        HsmSession.Recovery recovery() {
            HsmSession.Recovery defaults = HsmSession.Recovery.DEFAULT;
            return new HsmSession.Recovery(reopenMaxInterval != null ? reopenMaxInterval : defaults.maxInterval(),
                    refusedLoginRetry != null ? refusedLoginRetry : defaults.refusedLoginRetry(),
                    refusedLoginAttempts != null ? refusedLoginAttempts : defaults.refusedLoginAttempts());
        }
    }
}
