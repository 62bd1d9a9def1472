package health.carapace.bench;

import java.util.List;

/**
 * The patients (and, on the server, their observations) seeded before a read or search
 * workload, which the workload then draws from at random.
 */
record Dataset(List<SeededPatient> patients, int observationsPerPatient) {

    /** A patient the server stored: the id it assigned and the MRN the bench gave it. */
    record SeededPatient(String id, String mrn) {}

    Dataset {
        patients = List.copyOf(patients);
        if (patients.isEmpty()) {
            throw new IllegalArgumentException("a dataset needs at least one patient");
        }
    }
}
