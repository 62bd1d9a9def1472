package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetKeyPairGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import health.carapace.platform.config.AlgorithmHygiene;
import health.carapace.platform.config.AlgorithmUse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;

/** Token signing keys and password hashes, judged by the algorithm check from the loaded keys. */
class SignInAlgorithmsTest {

    @Test
    void anEs256KeyAndAnEd25519KeyPass() throws Exception {
        AlgorithmUse es256 = SignInAlgorithms.describe("tokens",
                new ECKeyGenerator(Curve.P_256).algorithm(JWSAlgorithm.ES256).generate());
        AlgorithmUse ed25519 = SignInAlgorithms.describe("tokens",
                new OctetKeyPairGenerator(Curve.Ed25519).algorithm(JWSAlgorithm.EdDSA).generate());

        assertThat(es256.algorithm()).isEqualTo("ECDSA-P256-SHA256");
        assertThat(ed25519.algorithm()).isEqualTo("Ed25519");
        AlgorithmHygiene.check(List.of(es256, ed25519));
    }

    @Test
    void anRsa2048TokenSigningKeyIsRefused() throws Exception {
        AlgorithmUse rs256 = SignInAlgorithms.describe("tokens",
                new RSAKeyGenerator(2048).algorithm(JWSAlgorithm.RS256).generate());

        assertThat(rs256.bits()).isEqualTo(2048);
        assertThatThrownBy(() -> AlgorithmHygiene.check(List.of(rs256)))
                .isInstanceOf(AlgorithmHygiene.WeakAlgorithms.class)
                .hasMessageContaining("RSA-SHA256 (2048-bit)").hasMessageContaining("RSA keys below 3072 bits are refused");
    }

    @Test
    void anRsa3072TokenSigningKeyPasses() throws Exception {
        AlgorithmHygiene.check(List.of(SignInAlgorithms.describe("tokens",
                new RSAKeyGenerator(3072).algorithm(JWSAlgorithm.PS256).generate())));
    }

    @Test
    void theRealSecretHasherIsArgon2idAndBcryptIsRefused() {
        AlgorithmUse real = SignInAlgorithms.describe("secrets", new SecurityConfiguration().secretHasher());
        assertThat(real.algorithm()).isEqualTo("Argon2id");
        assertThat(real.detail()).matches("m=\\d+,t=\\d+,p=\\d+");
        AlgorithmHygiene.check(List.of(real));

        AlgorithmUse bcrypt = SignInAlgorithms.describe("secrets", new BCryptPasswordEncoder());
        assertThatThrownBy(() -> AlgorithmHygiene.check(List.of(bcrypt)))
                .hasMessageContaining("not an allowed password hash (Argon2id)");
    }
}
