package health.carapace.testing;

import com.nimbusds.jose.jwk.Curve;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.Base64;

/**
 * The two spellings of one ES256 signature, for tests: {@code (r, s)} and {@code (r, n − s)} both
 * verify, and the server accepts only the low one. Tokens that tests sign themselves with the
 * server's key are brought to the low form, as the server does with its own.
 */
public final class EcdsaSignatures {

    /** The order of P-256. */
    public static final BigInteger ORDER = Curve.P_256.toECParameterSpec().getOrder();

    private EcdsaSignatures() {
    }

    /** The {@code s} of a compact ES256 token's signature. */
    public static BigInteger s(String token) {
        byte[] signature = signature(token);
        return new BigInteger(1, Arrays.copyOfRange(signature, 32, 64));
    }

    /** Whether the token's {@code s} is in the lower half ({@code s ≤ n/2}). */
    public static boolean isLowS(String token) {
        return s(token).compareTo(ORDER.shiftRight(1)) <= 0;
    }

    /** The same token with {@code s} replaced by {@code n − s}: the other valid spelling. */
    public static String flipS(String token) {
        byte[] signature = signature(token);
        byte[] flipped = ORDER.subtract(s(token)).toByteArray();
        byte[] s = new byte[32];
        int length = Math.min(flipped.length, 32);
        System.arraycopy(flipped, flipped.length - length, s, 32 - length, length);
        System.arraycopy(s, 0, signature, 32, 32);
        return token.substring(0, token.lastIndexOf('.') + 1) + Base64.getUrlEncoder().withoutPadding().encodeToString(signature);
    }

    /** The token in its low-{@code s} form, as the server signs. */
    public static String lowS(String token) {
        return isLowS(token) ? token : flipS(token);
    }

    private static byte[] signature(String token) {
        byte[] signature = Base64.getUrlDecoder().decode(token.substring(token.lastIndexOf('.') + 1));
        if (signature.length != 64) {
            throw new IllegalArgumentException("not an ES256 signature");
        }
        return signature;
    }
}
