package health.carapace.access.internal;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.KeyUse;
import health.carapace.crypto.SystemSecrets;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;

/**
 * The ES256 key that signs access tokens. Kept in the keyring, wrapped by the KEK, so tokens
 * survive a restart and no signing key ever sits in clear on disk.
 */
final class TokenSigningKey {

    private TokenSigningKey() {
    }

    static ECKey load(SystemSecrets secrets) {
        byte[] stored = secrets.getOrCreate("token-signing-es256", TokenSigningKey::generate);
        try {
            ByteBuffer in = ByteBuffer.wrap(stored);
            byte[] privateBytes = new byte[in.getInt()];
            in.get(privateBytes);
            byte[] publicBytes = new byte[in.remaining()];
            in.get(publicBytes);
            KeyFactory factory = KeyFactory.getInstance("EC");
            ECPublicKey publicKey = (ECPublicKey) factory.generatePublic(new X509EncodedKeySpec(publicBytes));
            ECPrivateKey privateKey = (ECPrivateKey) factory.generatePrivate(new PKCS8EncodedKeySpec(privateBytes));
            return new ECKey.Builder(Curve.P_256, publicKey)
                    .privateKey(privateKey)
                    .keyUse(KeyUse.SIGNATURE)
                    .algorithm(com.nimbusds.jose.JWSAlgorithm.ES256)
                    .keyIDFromThumbprint()
                    .build();
        } catch (GeneralSecurityException | com.nimbusds.jose.JOSEException e) {
            throw new IllegalStateException("The token signing key in the keyring is unusable", e);
        }
    }

    private static byte[] generate() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = generator.generateKeyPair();
            byte[] privateBytes = pair.getPrivate().getEncoded();
            byte[] publicBytes = pair.getPublic().getEncoded();
            return ByteBuffer.allocate(4 + privateBytes.length + publicBytes.length)
                    .putInt(privateBytes.length).put(privateBytes).put(publicBytes).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Cannot generate a token signing key", e);
        }
    }
}
