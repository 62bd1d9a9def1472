package health.carapace.export.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.mock.web.MockHttpServletRequest;

/** Which requests the export filter takes: the kick-offs and the job and file routes, nothing else. */
class ExportEndpointsPathsTest {

    private final ExportEndpoints filter = new ExportEndpoints(null, null, null, null, null, null, Set.of(), 1, null, null,
            null);

    @ParameterizedTest
    @ValueSource(strings = {"/fhir/$export", "/fhir/Patient/$export", "/fhir/Group/7f3c/$export",
        "/export/jobs/0b6f1f1e-2a5c-4c59-9f7e-0d7c3c1f2a11", "/export/files/0b6f1f1e-2a5c-4c59-9f7e-0d7c3c1f2a11/x.ndjson"})
    void exportRoutesAreFiltered(String path) {
        assertThat(filter.shouldNotFilter(new MockHttpServletRequest("GET", path))).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/fhir/Patient/0b6f1f1e-2a5c-4c59-9f7e-0d7c3c1f2a11", "/fhir/Patient", "/fhir/metadata",
        "/fhir/Observation/$export", "/fhir/Group/7f3c/$export/x", "/fhir/$exports", "/fhir/Patient/$export-poll"})
    void otherRequestsPassUntouched(String path) {
        assertThat(filter.shouldNotFilter(new MockHttpServletRequest("GET", path))).isTrue();
    }
}
