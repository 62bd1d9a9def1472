package health.carapace.bench;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** One invocation of the bench: how it was run and what each workload measured. */
record BenchReport(Instant startedAt, Settings settings, List<WorkloadResult> workloads) {

    /** The options that shape the load, echoed in the report so a figure can be reproduced. */
    record Settings(String baseUrl, int concurrency, Duration warmup, Duration duration, long seed,
            int datasetPatients, int observationsPerPatient, String authentication, String javaVersion,
            int availableProcessors, Duration requestTimeout) {}
}
