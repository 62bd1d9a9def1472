package health.carapace.signin.internal;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.impl.ECDSA;
import com.nimbusds.jose.jwk.Curve;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.Base64;
import org.springframework.security.oauth2.jwt.BadJwtException;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.jwt.JwtException;

/**
 * One spelling per ES256 signature. ECDSA verification accepts both {@code (r, s)} and
 * {@code (r, n − s)}, so without this anyone holding a token could mint a second, different token
 * string that verifies just as well (a fresh cache key, a value no log or deny list has seen).
 * Only the JWS form is accepted: exactly 64 bytes {@code R||S} in canonical unpadded base64url
 * (never DER, never a second base64 spelling of the same bytes) with {@code s ≤ n/2} ("low s").
 * The check runs before anything else looks at a presented token; the signature itself is then
 * verified by Nimbus as before. The JDK's signer picks {@code s} or {@code n − s} at random, so
 * every token this server signs is brought to the low form at issuance ({@link #lowS}).
 */
final class CanonicalSignatures implements JwtDecoder {

    /** The order n of P-256, the curve of the token signing key (ES256 is the only algorithm). */
    private static final BigInteger ORDER = Curve.P_256.toECParameterSpec().getOrder();
    private static final BigInteger HALF_ORDER = ORDER.shiftRight(1);
    private static final int SIGNATURE_BYTES = signatureBytes();
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

    private final JwtDecoder verifier;

    CanonicalSignatures(JwtDecoder verifier) {
        this.verifier = verifier;
    }

    @Override
    public Jwt decode(String token) throws JwtException {
        if (token == null || !isCanonical(token)) {
            throw new BadJwtException("A JWT without a canonical ES256 signature was presented");
        }
        return verifier.decode(token);
    }

    /** An encoder whose tokens all carry the low-{@code s} form of their signature. */
    static JwtEncoder lowS(JwtEncoder encoder) {
        return parameters -> lowS(encoder.encode(parameters));
    }

    /** The same token with {@code s} replaced by {@code n − s} when {@code s} is in the upper half. */
    static Jwt lowS(Jwt jwt) {
        String token = jwt.getTokenValue();
        int dot = token.lastIndexOf('.');
        byte[] signature = Base64.getUrlDecoder().decode(token.substring(dot + 1));
        if (signature.length != SIGNATURE_BYTES) {
            throw new IllegalStateException("the token signer produced a signature that is not ES256");
        }
        int half = SIGNATURE_BYTES / 2;
        BigInteger s = new BigInteger(1, Arrays.copyOfRange(signature, half, SIGNATURE_BYTES));
        if (s.compareTo(HALF_ORDER) <= 0) {
            return jwt;
        }
        byte[] low = ORDER.subtract(s).toByteArray(); // positive and < n/2: at most 32 bytes, plus a sign byte
        byte[] canonical = Arrays.copyOf(signature, SIGNATURE_BYTES);
        Arrays.fill(canonical, half, SIGNATURE_BYTES, (byte) 0);
        int length = Math.min(low.length, half);
        System.arraycopy(low, low.length - length, canonical, SIGNATURE_BYTES - length, length);
        String value = token.substring(0, dot + 1) + BASE64URL.encodeToString(canonical);
        return new Jwt(value, jwt.getIssuedAt(), jwt.getExpiresAt(), jwt.getHeaders(), jwt.getClaims());
    }

    /** Three parts; a signature of exactly 64 bytes, spelt canonically, with {@code 0 < s ≤ n/2}. */
    static boolean isCanonical(String token) {
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            return false;
        }
        byte[] signature;
        try {
            signature = Base64.getUrlDecoder().decode(parts[2]);
        } catch (IllegalArgumentException notBase64) {
            return false;
        }
        if (signature.length != SIGNATURE_BYTES || !BASE64URL.encodeToString(signature).equals(parts[2])) {
            return false;
        }
        BigInteger s = new BigInteger(1, Arrays.copyOfRange(signature, SIGNATURE_BYTES / 2, SIGNATURE_BYTES));
        return s.signum() > 0 && s.compareTo(HALF_ORDER) <= 0;
    }

    private static int signatureBytes() {
        try {
            return ECDSA.getSignatureByteArrayLength(JWSAlgorithm.ES256);
        } catch (JOSEException e) {
            throw new IllegalStateException("Nimbus does not know ES256", e);
        }
    }
}
