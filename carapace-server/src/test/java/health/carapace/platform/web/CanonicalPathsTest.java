package health.carapace.platform.web;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CanonicalPathsTest {

    @ParameterizedTest
    @ValueSource(strings = {"/", "/health", "/fhir", "/fhir/", "/fhir/metadata",
        "/fhir/Patient/0b6f1f1e-2a5c-4c59-9f7e-0d7c3c1f2a11/_history/2", "/fhir/Patient/$everything",
        "/.well-known/oauth-authorization-server", "/fhir/Patient/a.b"})
    void canonicalPathsPass(String path) {
        assertThat(CanonicalPaths.isCanonical(path)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/health/../fhir/Patient", "/fhir/./Patient", "/fhir/..", "/fhir/.", "/fhir//Patient",
        "//fhir", "/fhir/metadata;x=y", "/health;jsessionid=1", "/fhir\\Patient", "/fhir/%2e%2e/health",
        "/fhir/%2E/Patient", "/fhir%2fPatient", "/fhir%5cPatient", "/fhir%3bx", "/fhir/%252e%252e", "", "fhir",
        "/%66hir/Patient/x", "/fhir/Pati%65nt", "/fhir/%7Ex", "/fhir/Patient/%30", "/%46HIR"})
    void nonCanonicalPathsAreRefused(String path) {
        assertThat(CanonicalPaths.isCanonical(path)).isFalse();
    }
}
