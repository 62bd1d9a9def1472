package health.carapace.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WorkloadTest {

    @Test
    void theMixedWorkloadIsEightyPercentReadsAndTwentyPercentWrites() {
        int writes = Workload.MIXED.weights().entrySet().stream().filter(e -> e.getKey().isWrite())
                .mapToInt(Map.Entry::getValue).sum();
        assertThat(writes).isEqualTo(20);
    }

    @Test
    void pickingFollowsTheWeights() {
        Map<Operation, Integer> picked = new EnumMap<>(Operation.class);
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < 100_000; i++) {
            picked.merge(Workload.MIXED.pick(random), 1, Integer::sum);
        }
        Workload.MIXED.weights().forEach((operation, percent) ->
                assertThat(picked.get(operation) / 1000.0).isCloseTo(percent, org.assertj.core.data.Offset.offset(1.0)));
    }

    @Test
    void allMeansEveryWorkloadButTheSoaksAndNamesAreTheOptionValues() {
        assertThat(Workload.parse("all")).containsExactly(Workload.CREATE_PATIENT, Workload.READ_PATIENT,
                Workload.SEARCH_PATIENT_BY_IDENTIFIER, Workload.CREATE_OBSERVATION, Workload.SEARCH_OBSERVATIONS_BY_PATIENT,
                Workload.MIXED);
        assertThat(Workload.parse("soak")).containsExactly(Workload.SOAK);
        assertThat(Workload.parse("search-observations-by-patient")).containsExactly(Workload.SEARCH_OBSERVATIONS_BY_PATIENT);
    }

    @Test
    void anUnknownWorkloadIsRefusedWithTheNamesThatExist() {
        assertThatThrownBy(() -> Workload.parse("reed-patient"))
                .hasMessageContaining("reed-patient").hasMessageContaining("read-patient, ");
    }

    @Test
    void onlyCreatingPatientsNeedsNoSeededData() {
        assertThat(Workload.CREATE_PATIENT.needsDataset()).isFalse();
        assertThat(Workload.CREATE_OBSERVATION.needsDataset()).isTrue();
        assertThat(Workload.MIXED.needsDataset()).isTrue();
    }
}
