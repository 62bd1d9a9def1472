package health.carapace.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * A named mix of operations with weights (percentages). Each virtual client draws its next
 * operation from the mix with its own random generator, so picking costs no coordination.
 */
enum Workload {
    CREATE_PATIENT(Map.of(Operation.CREATE_PATIENT, 100)),
    READ_PATIENT(Map.of(Operation.READ_PATIENT, 100)),
    SEARCH_PATIENT_BY_IDENTIFIER(Map.of(Operation.SEARCH_PATIENT_BY_IDENTIFIER, 100)),
    CREATE_OBSERVATION(Map.of(Operation.CREATE_OBSERVATION, 100)),
    SEARCH_OBSERVATIONS_BY_PATIENT(Map.of(Operation.SEARCH_OBSERVATIONS_BY_PATIENT, 100)),
    /**
     * 80% reads, 20% writes. Reads are mostly reads by id, as in a chart view, with some lookups
     * by MRN and observation lists; writes are half new patients, half new observations.
     */
    MIXED(Map.of(
            Operation.READ_PATIENT, 60,
            Operation.SEARCH_PATIENT_BY_IDENTIFIER, 10,
            Operation.SEARCH_OBSERVATIONS_BY_PATIENT, 10,
            Operation.CREATE_PATIENT, 10,
            Operation.CREATE_OBSERVATION, 10)),
    /**
     * The soak's mix (issue 21: creates, updates, reads, searches): 50% reads by id, 20% searches
     * (by MRN, observations of a patient), 30% writes (new patients, new observations, updates of
     * seeded patients). Not part of {@code all}: it is run with {@code --soak}.
     */
    /**
     * SMART Backend Services token issuance (issue 18: 500/s): each request presents a client
     * assertion never sent before. Needs {@code --assertion-client-id} and {@code --assertion-key};
     * not part of {@code all}.
     */
    ISSUE_BACKEND_TOKEN(Map.of(Operation.ISSUE_BACKEND_TOKEN, 100)),
    SOAK(Map.of(
            Operation.READ_PATIENT, 50,
            Operation.SEARCH_PATIENT_BY_IDENTIFIER, 10,
            Operation.SEARCH_OBSERVATIONS_BY_PATIENT, 10,
            Operation.CREATE_PATIENT, 10,
            Operation.CREATE_OBSERVATION, 10,
            Operation.UPDATE_PATIENT, 10));

    private final Map<Operation, Integer> weights;
    /** Operation for each of the 100 percentage points: picking is one array lookup. */
    private final Operation[] byPercent;

    Workload(Map<Operation, Integer> weights) {
        // Map.of has no order; the report lists operations in declaration order.
        this.weights = orderByDeclaration(weights);
        this.byPercent = new Operation[100];
        int next = 0;
        for (Map.Entry<Operation, Integer> entry : this.weights.entrySet()) {
            for (int i = 0; i < entry.getValue(); i++) {
                byPercent[next++] = entry.getKey();
            }
        }
        if (next != 100) {
            throw new IllegalStateException(name() + ": weights must add up to 100, not " + next);
        }
    }

    /** The option value: {@code read-patient}, {@code mixed}, ... */
    String label() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    Map<Operation, Integer> weights() {
        return weights;
    }

    List<Operation> operations() {
        return List.copyOf(weights.keySet());
    }

    boolean needsDataset() {
        return weights.keySet().stream().anyMatch(Operation::needsDataset);
    }

    Operation pick(SplittableRandom random) {
        return byPercent.length == 1 ? byPercent[0] : byPercent[random.nextInt(100)];
    }

    /** Parses an option value; {@code all} means every workload but the soak's and token issuance, in declaration order. */
    static List<Workload> parse(String value) {
        if (value.equalsIgnoreCase("all")) {
            return Arrays.stream(values()).filter(w -> w != SOAK && w != ISSUE_BACKEND_TOKEN).toList();
        }
        for (Workload workload : values()) {
            if (workload.label().equalsIgnoreCase(value.trim())) {
                return List.of(workload);
            }
        }
        throw new IllegalArgumentException("unknown workload '" + value + "'; expected one of: all, "
                + Arrays.stream(values()).map(Workload::label).collect(Collectors.joining(", ")));
    }

    private static Map<Operation, Integer> orderByDeclaration(Map<Operation, Integer> weights) {
        Map<Operation, Integer> ordered = new LinkedHashMap<>();
        for (Operation operation : Operation.values()) {
            if (weights.containsKey(operation)) {
                ordered.put(operation, weights.get(operation));
            }
        }
        return ordered;
    }
}
