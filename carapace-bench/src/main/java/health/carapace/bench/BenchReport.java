package health.carapace.bench;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** One invocation of the bench: how it was run and what each workload measured. */
record BenchReport(Instant startedAt, Settings settings, List<WorkloadResult> workloads) {

    /** The options that shape the load, echoed in the report so a figure can be reproduced. */
    record Settings(String baseUrl, int concurrency, Duration warmup, Duration duration, long seed,
            int datasetPatients, int observationsPerPatient, String authentication, String javaVersion,
            int availableProcessors, Duration requestTimeout, MachineBefore machineBefore) {}

    /**
     * How busy the machine was in the second before the bench sent anything (NaN off Linux): a
     * figure measured next to someone else's build is not a figure about the server.
     */
    record MachineBefore(double busyPercent, double loadAverage1m) {

        static MachineBefore sample() throws InterruptedException {
            var before = ProcFs.machineTicks();
            double load = ProcFs.loadAverages().map(l -> l[0]).orElse(Double.NaN);
            Thread.sleep(1000);
            var after = ProcFs.machineTicks();
            if (before.isEmpty() || after.isEmpty() || after.get().total() == before.get().total()) {
                return new MachineBefore(Double.NaN, load);
            }
            return new MachineBefore(100.0 * (after.get().busy() - before.get().busy())
                    / (after.get().total() - before.get().total()), load);
        }
    }
}
