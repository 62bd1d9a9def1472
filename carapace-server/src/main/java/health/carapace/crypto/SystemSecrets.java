package health.carapace.crypto;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.function.Supplier;

/**
 * Non-PHI secrets the server needs across restarts (for example the token signing key),
 * stored in the keyring wrapped by the {@link KeyEncryptionKey}.
 */
public interface SystemSecrets {

    /** Returns the secret stored under {@code name}, generating and storing it on first use. */
    byte[] getOrCreate(String name, Supplier<byte[]> generator);

    /**
     * Returns the key pair stored under {@code name}, generating and storing it on first use.
     * Stored as the private key's PKCS#8 encoding and the public key's X.509 encoding.
     *
     * @param algorithm the {@link KeyFactory} algorithm of the pair, e.g. {@code EC} or {@code Ed25519}
     */
    default KeyPair keyPair(String name, String algorithm, Supplier<KeyPair> generator) {
        byte[] stored = getOrCreate(name, () -> {
            KeyPair pair = generator.get();
            byte[] privateBytes = pair.getPrivate().getEncoded();
            byte[] publicBytes = pair.getPublic().getEncoded();
            return ByteBuffer.allocate(4 + privateBytes.length + publicBytes.length)
                    .putInt(privateBytes.length).put(privateBytes).put(publicBytes).array();
        });
        try {
            ByteBuffer in = ByteBuffer.wrap(stored);
            byte[] privateBytes = new byte[in.getInt()];
            in.get(privateBytes);
            byte[] publicBytes = new byte[in.remaining()];
            in.get(publicBytes);
            KeyFactory factory = KeyFactory.getInstance(algorithm);
            return new KeyPair(factory.generatePublic(new X509EncodedKeySpec(publicBytes)),
                    factory.generatePrivate(new PKCS8EncodedKeySpec(privateBytes)));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new KeyUnavailableException("The key pair '" + name + "' in the keyring is unusable", e);
        }
    }
}
