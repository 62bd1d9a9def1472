package health.carapace.signin.internal;

import com.eatthepath.otp.TimeBasedOneTimePasswordGenerator;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;
import javax.crypto.spec.SecretKeySpec;
import org.apache.commons.codec.binary.Base32;

/**
 * Time-based one-time passwords (RFC 6238): HMAC-SHA256, 6 digits, 30-second steps, accepting
 * the previous and the next step for clock drift. The code generation is java-otp's (over the
 * JDK's {@code Mac}); this class only chooses the parameters and finds which step a code matches,
 * so that the caller can refuse a step that was already used.
 */
final class Totp {

    static final Duration STEP = Duration.ofSeconds(30);
    static final int DIGITS = 6;
    /** RFC 6238 §5.2: one step either way. */
    static final int DRIFT_STEPS = 1;
    static final String ALGORITHM = TimeBasedOneTimePasswordGenerator.TOTP_ALGORITHM_HMAC_SHA256;
    static final int SEED_BYTES = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final TimeBasedOneTimePasswordGenerator generator =
            new TimeBasedOneTimePasswordGenerator(STEP, DIGITS, ALGORITHM);

    /** A fresh 256-bit seed (RFC 6238 recommends the HMAC's output length). */
    static byte[] newSeed() {
        byte[] seed = new byte[SEED_BYTES];
        RANDOM.nextBytes(seed);
        return seed;
    }

    static String base32(byte[] seed) {
        return new Base32().encodeToString(seed).replace("=", "");
    }

    /** The {@code otpauth://} URI that authenticator apps read (the de-facto Key Uri Format). */
    static String otpauthUri(String issuer, String account, byte[] seed) {
        String label = encode(issuer) + ":" + encode(account);
        return "otpauth://totp/" + label + "?secret=" + base32(seed) + "&issuer=" + encode(issuer)
                + "&algorithm=SHA256&digits=" + DIGITS + "&period=" + STEP.toSeconds();
    }

    static long stepOf(Instant instant) {
        return Math.floorDiv(instant.getEpochSecond(), STEP.toSeconds());
    }

    /** The time step (within the drift window around {@code now}) whose code equals {@code code}. */
    OptionalLong matchingStep(byte[] seed, String code, Instant now) {
        if (code == null || !code.matches("\\d{" + DIGITS + "}")) {
            return OptionalLong.empty();
        }
        SecretKeySpec key = new SecretKeySpec(seed, ALGORITHM);
        long current = stepOf(now);
        long matched = -1;
        // Every candidate step is computed and compared in constant time, so timing does not
        // tell which step (if any) matched.
        for (long step = current - DRIFT_STEPS; step <= current + DRIFT_STEPS; step++) {
            if (MessageDigest.isEqual(code(key, step).getBytes(StandardCharsets.US_ASCII),
                    code.getBytes(StandardCharsets.US_ASCII)) && matched < 0) {
                matched = step;
            }
        }
        return matched < 0 ? OptionalLong.empty() : OptionalLong.of(matched);
    }

    private String code(SecretKeySpec key, long step) {
        try {
            return generator.generateOneTimePasswordString(key, Instant.ofEpochSecond(step * STEP.toSeconds()),
                    java.util.Locale.ROOT);
        } catch (InvalidKeyException e) {
            throw new IllegalStateException("the TOTP seed is not a usable HMAC key", e);
        }
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
