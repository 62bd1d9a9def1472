package health.carapace.crypto.internal;

import java.nio.file.Path;
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
     */
    record Pkcs11(String library, int slotListIndex, String pin, String keyLabel) {}
}
