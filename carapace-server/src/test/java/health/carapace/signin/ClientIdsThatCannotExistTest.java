package health.carapace.signin;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A client id with a NUL or another control character (wapiti's injection payloads) is an
 * unknown client, refused like any other, not a 500 from the database (the scan gate found it:
 * PostgreSQL text cannot hold NUL). Nothing sent is echoed.
 */
class ClientIdsThatCannotExistTest extends IntegrationTest {

    @Test
    void theAuthorizationEndpointRefusesThemAsUnknownClients() {
        for (String clientId : List.of("%2Fe%00", "a%00", "dev-console%00", "x%01y", "https%3A%2F%2Fwapiti3.ovh%2Fe.php%00")) {
            HttpResponse<String> response = sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/authorize?response_type=code"
                    + "&client_id=" + clientId + "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback"
                    + "&code_challenge=x&code_challenge_method=S256&state=s")).GET());

            assertThat(response.statusCode()).as(clientId).isBetween(400, 499);
            assertThat(response.body()).as(clientId).doesNotContain("wapiti3");
        }
    }

    @Test
    void theTokenEndpointRefusesThemAsUnknownClients() {
        String basic = Base64.getEncoder().encodeToString("svc-x\u0000:secret".getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> response = sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
        HttpResponse<String> form = sendWithoutToken(HttpRequest.newBuilder(uri("/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=a%00&client_secret=b")));

        assertThat(response.statusCode()).isBetween(400, 401);
        assertThat(form.statusCode()).isBetween(400, 401);
    }
}
