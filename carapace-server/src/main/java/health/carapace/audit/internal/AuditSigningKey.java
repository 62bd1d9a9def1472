package health.carapace.audit.internal;

import health.carapace.crypto.SystemSecrets;
import health.carapace.verify.Ed25519TreeHeadSigner;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;

/**
 * The Ed25519 key that signs tree heads. Generated once, kept in the keyring wrapped by the KEK;
 * its public key is what auditors are given to verify exports offline.
 */
final class AuditSigningKey {

    private AuditSigningKey() {
    }

    static Ed25519TreeHeadSigner load(SystemSecrets secrets) {
        return Ed25519TreeHeadSigner.of(secrets.keyPair("audit-signing-ed25519", "Ed25519", () -> {
            try {
                return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("Cannot generate the audit signing key", e);
            }
        }));
    }
}
