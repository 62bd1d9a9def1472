package health.carapace.crypto.internal;

import health.carapace.crypto.KeyEncryptionKey;
import health.carapace.crypto.KeyUnavailableException;
import java.nio.file.Path;

/**
 * Where KEK versions live: one key object per version, in the HSM token (a label per version)
 * or in the dev keystore (an alias per version). Version 1 keeps the id it had before
 * versioning existed, so keyrings written before rotation need no migration of their rows.
 */
interface KekSource {

    /** The stable id of version {@code version}, as stored beside every key it wraps. */
    String keyId(int version);

    /** Opens an existing version. */
    KeyEncryptionKey open(String keyId);

    /**
     * Generates the key of a new version; if a crash after generating it left the object behind
     * without its keyring row, adopts that object instead of making a second one under the label.
     */
    KeyEncryptionKey create(String keyId);

    /** Whether the keys can be used now (the HSM answers); a keystore file opened at start always can. */
    default boolean reachable() {
        return true;
    }

    /** KEK versions in the HSM, used through the node's {@link HsmSession} (a lost session is opened again). */
    static KekSource pkcs11(HsmSession hsm) {
        String base = hsm.firstLabel();
        return new KekSource() {
            @Override
            public String keyId(int version) {
                return "pkcs11/" + (version == 1 ? base : base + "-v" + version);
            }

            @Override
            public KeyEncryptionKey open(String keyId) {
                HsmSession.Kek found = hsm.find(label(keyId));
                if (found == null) {
                    throw new KeyUnavailableException("The keyring names the KEK " + keyId
                            + " but the HSM token has no key with that label: keys wrapped by it cannot be read");
                }
                return found;
            }

            @Override
            public KeyEncryptionKey create(String keyId) {
                return hsm.create(label(keyId));
            }

            @Override
            public boolean reachable() {
                return hsm.reachable();
            }

            private String label(String keyId) {
                if (!keyId.startsWith("pkcs11/")) {
                    throw new KeyUnavailableException("The keyring names the KEK " + keyId
                            + ", which is not a PKCS#11 key, but carapace.kek.provider is pkcs11");
                }
                return keyId.substring("pkcs11/".length());
            }
        };
    }

    static KekSource devKeystore(Path dir) {
        return new KekSource() {
            @Override
            public String keyId(int version) {
                return "dev-keystore/kek-" + version;
            }

            @Override
            public KeyEncryptionKey open(String keyId) {
                return DevKeystoreKek.version(dir, alias(keyId), false);
            }

            @Override
            public KeyEncryptionKey create(String keyId) {
                return DevKeystoreKek.version(dir, alias(keyId), true);
            }

            private String alias(String keyId) {
                if (!keyId.startsWith("dev-keystore/")) {
                    throw new KeyUnavailableException("The keyring names the KEK " + keyId
                            + ", which is not a dev-keystore key, but carapace.kek.provider is dev-keystore");
                }
                return keyId.substring("dev-keystore/".length());
            }
        };
    }
}
