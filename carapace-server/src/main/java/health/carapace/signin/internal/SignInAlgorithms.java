package health.carapace.signin.internal;

import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import health.carapace.platform.config.AlgorithmInventory;
import health.carapace.platform.config.AlgorithmUse;
import health.carapace.platform.config.AlgorithmUse.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.stereotype.Component;

/**
 * The sign-in module's algorithms: every token signing key in the JWK source (algorithm and curve
 * or size, from the loaded key), and every password encoder, judged by what it actually produces
 * for a probe (the hash itself is never logged; only its algorithm and cost parameters).
 */
@Component
class SignInAlgorithms implements AlgorithmInventory {

    private static final Pattern ENCODED = Pattern.compile("^\\{([a-z0-9]+)\\}\\$(argon2(?:id|i|d))\\$v=\\d+\\$(m=\\d+,t=\\d+,p=\\d+)\\$.*");

    private final ObjectProvider<JWKSource<SecurityContext>> jwkSources;
    private final ObjectProvider<PasswordEncoder> passwordEncoders;
    private final ObjectProvider<TotpSeals> totpSeals;
    private final ObjectProvider<LoginThrottle> loginThrottles;

    SignInAlgorithms(ObjectProvider<JWKSource<SecurityContext>> jwkSources, ObjectProvider<PasswordEncoder> passwordEncoders,
            ObjectProvider<TotpSeals> totpSeals, ObjectProvider<LoginThrottle> loginThrottles) {
        this.jwkSources = jwkSources;
        this.passwordEncoders = passwordEncoders;
        this.totpSeals = totpSeals;
        this.loginThrottles = loginThrottles;
    }

    @Override
    public List<AlgorithmUse> algorithmsInUse() {
        List<AlgorithmUse> uses = new ArrayList<>();
        jwkSources.orderedStream().forEach(source -> {
            try {
                for (JWK jwk : source.get(new JWKSelector(new JWKMatcher.Builder().build()), null)) {
                    uses.add(describe("access-token signing key", jwk));
                }
            } catch (KeySourceException e) {
                throw new IllegalStateException("The token signing keys cannot be listed for the algorithm check", e);
            }
        });
        passwordEncoders.orderedStream().forEach(encoder -> uses.add(describe("secret and password hashes", encoder)));
        // Second factor and sign-in: TOTP codes, the seeds' sealing key, throttle counter keys,
        // enrolment-link hashes (names from the constants the code uses, sizes from the keys).
        uses.add(new AlgorithmUse("TOTP codes (RFC 6238)", Kind.MAC, macName(Totp.ALGORITHM), Totp.SEED_BYTES * 8,
                Totp.DIGITS + " digits, " + Totp.STEP.toSeconds() + " s"));
        totpSeals.orderedStream().forEach(seals -> uses.add(AlgorithmUse.of("TOTP seed sealing", Kind.AEAD, "AES-GCM",
                seals.keyBits())));
        loginThrottles.orderedStream().forEach(throttle -> uses.add(AlgorithmUse.of("sign-in throttle counter keys",
                Kind.MAC, macName(LoginThrottle.MAC), throttle.keyBits())));
        uses.add(AlgorithmUse.of("enrolment-link hashes", Kind.DIGEST, UserDirectory.TOKEN_DIGEST, 0));
        return uses;
    }

    /** JCA MAC names ("HmacSHA256") as the policy spells them ("HMAC-SHA256"). */
    static String macName(String jca) {
        return jca.startsWith("Hmac") ? "HMAC-" + jca.substring(4) : jca;
    }

    static AlgorithmUse describe(String component, JWK jwk) {
        String alg = jwk.getAlgorithm() == null ? "none" : jwk.getAlgorithm().getName();
        if (jwk instanceof ECKey ec) {
            String curve = ec.getCurve().getName().replace("P-", "P");
            String hash = alg.startsWith("ES") ? "-SHA" + alg.substring(2) : "";
            return new AlgorithmUse(component, Kind.SIGNATURE, "ECDSA-" + curve + hash, ec.size(), "JWS " + alg);
        }
        if (jwk instanceof RSAKey rsa) {
            String name = alg.startsWith("PS") ? "RSA-PSS-SHA" + alg.substring(2)
                    : alg.startsWith("RS") ? "RSA-SHA" + alg.substring(2) : "RSA";
            return new AlgorithmUse(component, Kind.SIGNATURE, name, rsa.size(), "JWS " + alg);
        }
        if (jwk instanceof OctetKeyPair okp) {
            return new AlgorithmUse(component, Kind.SIGNATURE, okp.getCurve().getName(), okp.size(), "JWS " + alg);
        }
        return new AlgorithmUse(component, Kind.SIGNATURE, jwk.getKeyType().getValue() + " " + alg, jwk.size(), "");
    }

    static AlgorithmUse describe(String component, PasswordEncoder encoder) {
        String probe = encoder.encode("carapace-algorithm-check");
        Matcher argon2 = ENCODED.matcher(probe);
        if (argon2.matches() && argon2.group(2).equals("argon2id")) {
            return new AlgorithmUse(component, Kind.PASSWORD_HASH, "Argon2id", 0, argon2.group(3));
        }
        // Name only what identifies the scheme; never the hash.
        String scheme = probe.startsWith("{") && probe.indexOf('}') > 0 ? probe.substring(0, probe.indexOf('}') + 1)
                : probe.startsWith("$2") ? "bcrypt" : encoder.getClass().getSimpleName();
        if (argon2.matches()) {
            scheme = argon2.group(2);
        }
        return AlgorithmUse.of(component, Kind.PASSWORD_HASH, scheme, 0);
    }
}
