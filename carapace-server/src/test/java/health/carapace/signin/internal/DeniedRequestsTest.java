package health.carapace.signin.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;

class DeniedRequestsTest {

    private static String audited(String uri) {
        return DeniedRequests.pathOnly(new MockHttpServletRequest("GET", uri));
    }

    @Test
    void routeWordsResourceTypesIdsAndOperationsAreKept() {
        assertThat(audited("/fhir/Patient/0889f196-f4d9-495b-8124-244460a8a18f/_history/2"))
                .isEqualTo("/fhir/Patient/0889f196-f4d9-495b-8124-244460a8a18f/_history/2");
        assertThat(audited("/oauth2/token")).isEqualTo("/oauth2/token");
        assertThat(audited("/fhir/Observation/$everything")).isEqualTo("/fhir/Observation/$everything");
    }

    @Test
    void anythingElseInThePathIsReplacedBecauseItIsTheClientsText() {
        assertThat(audited("/fhir/Patient/John-Smith/123-45-6789")).isEqualTo("/fhir/Patient/*/*");
        assertThat(audited("/Smith")).isEqualTo("/*");
    }
}
