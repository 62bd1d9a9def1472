package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.server.resource.web.BearerTokenResolver;
import org.springframework.security.oauth2.server.resource.web.DefaultBearerTokenResolver;

/**
 * The fast path gives exactly Spring's answer — the same token, the same refusal with the same
 * error, or no token — for every header shape, so no header that Spring refuses gets through.
 */
class BearerHeaderTest {

    private static final String TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzdmMtYSJ9.c2lnbmF0dXJl";

    private final BearerTokenResolver spring = new DefaultBearerTokenResolver();
    private final BearerTokenResolver fast = new BearerHeader();

    @Test
    void everyHeaderShapeGetsSpringsAnswer() {
        List<String> headers = new ArrayList<>(List.of("Bearer " + TOKEN, "bearer " + TOKEN, "BEARER " + TOKEN,
                "bEaReR " + TOKEN, "Bearer " + TOKEN + "==", "Bearer " + TOKEN + "=a", "Bearer  " + TOKEN,
                "Bearer " + TOKEN + " ", " Bearer " + TOKEN, "Bearer\t" + TOKEN, "Bearer " + TOKEN + "\n",
                "Bearer", "Bearer ", "Bearer =", "Bearer ==", "Bearerx " + TOKEN, "Basic " + TOKEN, "", "bear",
                "Bearer " + TOKEN + "," + TOKEN, "Bearer " + TOKEN + " " + TOKEN, "B\u0130arer " + TOKEN,
                "Bearer \u212A" + TOKEN, "Bearer " + TOKEN + "\u017F"));
        // every character of the first 1024 code points, in the token, at its end and as padding
        for (char c = 0; c < 1024; c++) {
            headers.add("Bearer " + c);
            headers.add("Bearer a" + c);
            headers.add("Bearer a=" + c);
            headers.add("Bearer" + c + TOKEN);
            headers.add("Bea" + c + "er " + TOKEN);
        }
        for (String header : headers) {
            assertThat(answer(fast, header)).as("header %s", escaped(header)).isEqualTo(answer(spring, header));
        }
        assertThat(answer(fast, null)).isEqualTo(answer(spring, null)).isEqualTo("no token");
    }

    @Test
    void aWellFormedHeaderTakesTheFastPath() {
        assertThat(BearerHeader.isBearerToken("Bearer " + TOKEN)).isTrue();
        assertThat(BearerHeader.isBearerToken("bearer " + TOKEN + "=")).isTrue();
        assertThat(BearerHeader.isBearerToken("Bearer  " + TOKEN)).isFalse();
        assertThat(answer(fast, "Bearer " + TOKEN)).isEqualTo("token " + TOKEN);
    }

    @Test
    void aTokenInTheQueryStringIsStillNotAccepted() {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/fhir/Patient");
        request.setParameter("access_token", TOKEN);
        assertThat(fast.resolve(request)).isNull();
        request.addHeader("Authorization", "Bearer " + TOKEN);
        assertThat(fast.resolve(request)).isEqualTo(TOKEN);
    }

    private static String answer(BearerTokenResolver resolver, String header) {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/fhir/Patient/x");
        if (header != null) {
            request.addHeader("Authorization", header);
        }
        try {
            String token = resolver.resolve(request);
            return token == null ? "no token" : "token " + token;
        } catch (OAuth2AuthenticationException refused) {
            return "refused " + refused.getError().getErrorCode() + " " + refused.getError().getDescription();
        }
    }

    private static String escaped(String header) {
        StringBuilder out = new StringBuilder();
        header.chars().forEach(c -> out.append(c < 0x20 || c > 0x7e ? String.format("\\u%04x", c) : String.valueOf((char) c)));
        return out.toString();
    }
}
