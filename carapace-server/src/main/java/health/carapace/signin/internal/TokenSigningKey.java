package health.carapace.signin.internal;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.KeyUse;
import health.carapace.crypto.SystemSecrets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;

/**
 * The ES256 key that signs access tokens. Kept in the keyring, wrapped by the KEK, so tokens
 * survive a restart and no signing key ever sits in clear on disk.
 */
final class TokenSigningKey {

    private TokenSigningKey() {
    }

    static ECKey load(SystemSecrets secrets) {
        KeyPair pair = secrets.keyPair("token-signing-es256", "EC", () -> {
            try {
                KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
                generator.initialize(new ECGenParameterSpec("secp256r1"));
                return generator.generateKeyPair();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("Cannot generate a token signing key", e);
            }
        });
        try {
            return new ECKey.Builder(Curve.P_256, (ECPublicKey) pair.getPublic())
                    .privateKey((ECPrivateKey) pair.getPrivate())
                    .keyUse(KeyUse.SIGNATURE)
                    .algorithm(JWSAlgorithm.ES256)
                    .keyIDFromThumbprint()
                    .build();
        } catch (JOSEException e) {
            throw new IllegalStateException("The token signing key in the keyring is unusable", e);
        }
    }
}
