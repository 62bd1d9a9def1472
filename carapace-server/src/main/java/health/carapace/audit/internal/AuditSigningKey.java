package health.carapace.audit.internal;

import health.carapace.crypto.SystemSecrets;
import health.carapace.verify.Ed25519TreeHeadSigner;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;

/**
 * The Ed25519 key that signs tree heads. Generated once, kept in the keyring wrapped by the KEK;
 * its public key is what auditors are given to verify exports offline.
 */
final class AuditSigningKey {

    private AuditSigningKey() {
    }

    static Ed25519TreeHeadSigner load(SystemSecrets secrets) {
        byte[] stored = secrets.getOrCreate("audit-signing-ed25519", AuditSigningKey::generate);
        try {
            ByteBuffer in = ByteBuffer.wrap(stored);
            byte[] privateBytes = new byte[in.getInt()];
            in.get(privateBytes);
            byte[] publicBytes = new byte[in.remaining()];
            in.get(publicBytes);
            KeyFactory factory = KeyFactory.getInstance("Ed25519");
            return Ed25519TreeHeadSigner.of(new KeyPair(factory.generatePublic(new X509EncodedKeySpec(publicBytes)),
                    factory.generatePrivate(new PKCS8EncodedKeySpec(privateBytes))));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("The audit signing key in the keyring is unusable", e);
        }
    }

    private static byte[] generate() {
        try {
            KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            byte[] privateBytes = pair.getPrivate().getEncoded();
            byte[] publicBytes = pair.getPublic().getEncoded();
            return ByteBuffer.allocate(4 + privateBytes.length + publicBytes.length)
                    .putInt(privateBytes.length).put(privateBytes).put(publicBytes).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Cannot generate the audit signing key", e);
        }
    }
}
