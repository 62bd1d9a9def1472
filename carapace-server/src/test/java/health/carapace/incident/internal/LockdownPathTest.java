package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;

/**
 * Review L2: the lockdown decides what is PHI on the path the container routes by (decoded and
 * normalised servlet path), never on the raw request URI, and covers telehealth (review M4).
 */
class LockdownPathTest {

    private static MockHttpServletRequest request(String rawUri, String servletPath, String pathInfo) {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", rawUri);
        request.setServletPath(servletPath);
        request.setPathInfo(pathInfo);
        return request;
    }

    @Test
    void anEncodedOrDotSegmentFhirPathIsPhi() {
        assertThat(ContainmentFilters.phi(request("/%66hir/Patient/1", "/fhir", "/Patient/1"))).isTrue();
        assertThat(ContainmentFilters.phi(request("/x/../fhir/Patient/1", "/fhir", "/Patient/1"))).isTrue();
        assertThat(ContainmentFilters.phi(request("/fhir", "/fhir", null))).isTrue();
    }

    @Test
    void theCapabilityStatementAndTheAdminRoutesAreNot() {
        assertThat(ContainmentFilters.phi(request("/fhir/metadata", "/fhir", "/metadata"))).isFalse();
        assertThat(ContainmentFilters.phi(request("/admin/incidents", "/admin/incidents", null))).isFalse();
        assertThat(ContainmentFilters.phi(request("/fhirx/Patient", "/fhirx/Patient", null))).isFalse();
    }

    @Test
    void joiningAVisitAndTheSignalingHandshakeArePhiButTheVisitPageIsNot() {
        assertThat(ContainmentFilters.phi(request("/telehealth/visits/a1/join", "/telehealth/visits/a1/join", null)))
                .isTrue();
        assertThat(ContainmentFilters.phi(request("/telehealth/signal", "/telehealth/signal", null))).isTrue();
        assertThat(ContainmentFilters.phi(request("/telehealth/visit", "/telehealth/visit", null))).isFalse();
    }
}
