package health.carapace.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The SMART 2.0 scope grammar and what a granted scope reaches (issue #18); no server needed. */
class AppScopeTest {

    private static final String P = "Patient/11111111-1111-1111-1111-111111111111";
    private static final String OTHER = "Patient/22222222-2222-2222-2222-222222222222";

    @Test
    void parsesV2AndV1ScopesAndRefusesEverythingElse() {
        assertThat(AppScope.parseResource("patient/*.rs").orElseThrow().toString()).isEqualTo("patient/*.rs");
        assertThat(AppScope.parseResource("user/Observation.read").orElseThrow().toString()).isEqualTo("user/Observation.rs");
        assertThat(AppScope.parseResource("system/*.*").orElseThrow().toString()).isEqualTo("system/*.cruds");
        assertThat(AppScope.parseResource("user/Observation.rs?category=laboratory").orElseThrow().servable()).isFalse();
        for (String bad : List.of("patient/*.sr", "patient/*.", "patient/*.x", "Patient/*.rs", "patient/observation.rs",
                "patient/*.rs ", "group/*.rs", "patient/*.rrs", "patient//*.rs", "", "launch/other", "patient/*.rs?a=<b>")) {
            assertThat(AppScope.known(bad)).as(bad).isFalse();
        }
        assertThat(AppScope.known("launch/patient")).isTrue();
        assertThat(AppScope.known("fhirUser")).isTrue();
    }

    @Test
    void patientScopesReachOnlyThePatientInContextAndOnlyTheirLetters() {
        AppScope scope = AppScope.granted(List.of("patient/*.rs", "launch/patient"), P.substring("Patient/".length()));
        assertThat(scope.narrows()).isTrue();
        assertThat(scope.permits(Interaction.READ, "Observation", P)).isTrue();
        assertThat(scope.permits(Interaction.SEARCH, "Observation", P)).isTrue();
        assertThat(scope.permits(Interaction.READ, "Observation", OTHER)).isFalse();
        assertThat(scope.permits(Interaction.READ, "Practitioner", "shared")).isFalse();
        assertThat(scope.permits(Interaction.CREATE, "Observation", P)).isFalse();
        assertThat(scope.permits(Interaction.UPDATE, "Observation", P)).isFalse();
        assertThat(scope.searchCompartment(Interaction.SEARCH, "Observation")).contains(P);
        assertThat(scope.searchCompartment(Interaction.DELETE, "Observation")).isEmpty();
    }

    @Test
    void noPatientInContextOrNothingServableReachesNothing() {
        AppScope noPatient = AppScope.granted(List.of("patient/*.rs"), null);
        assertThat(noPatient.permits(Interaction.READ, "Patient", P)).isFalse();
        assertThat(noPatient.searchCompartment(Interaction.SEARCH, "Patient")).isEmpty();
        AppScope onlyQueries = AppScope.granted(List.of("user/Observation.rs?category=laboratory", "nonsense"), null);
        assertThat(onlyQueries.permits(Interaction.READ, "Observation", P)).isFalse();
        assertThat(AppScope.granted(List.of(), null).permits(Interaction.READ, "Patient", P)).isFalse();
        // Tokens without app scopes are decided on roles alone.
        assertThat(AppScope.ROLES_ONLY.permits(Interaction.DELETE, "Patient", P)).isTrue();
        assertThat(AppScope.ROLES_ONLY.searchCompartment(Interaction.SEARCH, "Patient")).contains("");
    }

    @Test
    void userAndSystemScopesAddNoCompartmentRestriction() {
        AppScope scope = AppScope.granted(List.of("user/Observation.rs", "system/Patient.cruds"), null);
        assertThat(scope.permits(Interaction.READ, "Observation", OTHER)).isTrue();
        assertThat(scope.permits(Interaction.READ, "Condition", OTHER)).isFalse();
        assertThat(scope.permits(Interaction.DELETE, "Patient", OTHER)).isTrue();
        assertThat(scope.searchCompartment(Interaction.SEARCH, "Observation")).contains("");
    }
}
