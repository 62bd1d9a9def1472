package health.carapace.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TokenEndpointTest {

    @Test
    void readsTheTokenAndItsLifetimeFromATokenResponse() {
        IssuedToken token = TokenEndpoint.parse(
                "{\"access_token\":\"eyJ.abc.def\",\"token_type\":\"Bearer\",\"expires_in\":899}");
        assertThat(token.accessToken()).isEqualTo("eyJ.abc.def");
        assertThat(token.lifetime()).isEqualTo(Duration.ofSeconds(899));
    }

    @Test
    void assumesAShortLifetimeWhenTheServerStatesNone() {
        assertThat(TokenEndpoint.parse("{\"access_token\":\"t\"}").lifetime())
                .isEqualTo(TokenEndpoint.LIFETIME_WHEN_UNSTATED);
    }

    @Test
    void aResponseWithoutATokenIsAFailure() {
        assertThatThrownBy(() -> TokenEndpoint.parse("{\"error\":\"invalid_client\"}"))
                .isInstanceOf(TokenEndpoint.TokenRequestFailedException.class);
    }

    @Test
    void aTokenIsNeverPrinted() {
        assertThat(new IssuedToken("secret-token", Duration.ofMinutes(1)).toString()).doesNotContain("secret-token");
    }
}
