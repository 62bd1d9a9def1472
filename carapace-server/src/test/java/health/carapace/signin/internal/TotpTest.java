package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** RFC 6238 Appendix B test vectors (HMAC-SHA256 seed), truncated to our 6 digits; drift window. */
class TotpTest {

    private static final byte[] SEED = "12345678901234567890123456789012".getBytes(StandardCharsets.US_ASCII);
    private final Totp totp = new Totp();

    @Test
    void matchesTheRfc6238Sha256Vectors() {
        // 8-digit vectors 46119246, 68084774, 67062674, 91819424, 90698825; the low 6 digits are ours.
        assertStep(59, "119246");
        assertStep(1111111109, "084774");
        assertStep(1111111111, "062674");
        assertStep(1234567890, "819424");
        assertStep(2000000000, "698825");
    }

    @Test
    void acceptsOneStepOfDriftEitherWayAndNoMore() {
        Instant at = Instant.ofEpochSecond(1234567890);
        long step = Totp.stepOf(at);
        Instant thirtySecondsLater = at.plusSeconds(30);
        Instant sixtySecondsLater = at.plusSeconds(60);

        assertThat(totp.matchingStep(SEED, "819424", thirtySecondsLater)).hasValue(step);
        assertThat(totp.matchingStep(SEED, "819424", at.minusSeconds(30))).hasValue(step);
        assertThat(totp.matchingStep(SEED, "819424", sixtySecondsLater)).isEmpty();
    }

    @Test
    void refusesMalformedCodes() {
        Instant at = Instant.ofEpochSecond(59);
        for (String code : new String[] {null, "", "11924", "1192466", "11924a", " 119246", "119246\n"}) {
            assertThat(totp.matchingStep(SEED, code, at)).as("code %s", code).isEmpty();
        }
    }

    @Test
    void theProvisioningUriNamesSha256AndNeverSha1() {
        String uri = Totp.otpauthUri("Carapace", "dr.who@example", SEED);

        assertThat(uri).startsWith("otpauth://totp/Carapace:dr.who%40example?secret=")
                .contains("algorithm=SHA256").contains("digits=6").contains("period=30").doesNotContain("SHA1");
        assertThat(Totp.base32(SEED)).matches("[A-Z2-7]+");
    }

    private void assertStep(long epochSecond, String code) {
        Instant at = Instant.ofEpochSecond(epochSecond);
        assertThat(totp.matchingStep(SEED, code, at)).as("T=%d", epochSecond).hasValue(Totp.stepOf(at));
    }
}
