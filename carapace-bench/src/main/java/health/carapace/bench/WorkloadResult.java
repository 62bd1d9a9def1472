package health.carapace.bench;

import java.time.Duration;
import java.util.List;

/**
 * Everything measured for one workload: per operation and in total for the measured window, the
 * warm-up's outcome (its errors are reported too), and the resources used while measuring.
 */
record WorkloadResult(Workload workload, Duration window, List<OperationStats.Snapshot> operations,
        OperationStats.Snapshot total, OperationStats.Snapshot warmupTotal, long clientsStillWaiting,
        ResourceUsage usage) {

    static WorkloadResult of(Workload workload, LoadDriver.Run run, ResourceUsage usage) {
        List<OperationStats.Snapshot> operations = run.measured().snapshots();
        return new WorkloadResult(workload, run.window(), operations,
                OperationStats.Snapshot.merge(null, operations),
                OperationStats.Snapshot.merge(null, run.warmup().snapshots()),
                run.requestsStillInFlight(), usage);
    }

    double windowSeconds() {
        return window.toNanos() / 1e9;
    }

    /** Responses of any status per second of the measured window. */
    static double perSecond(long count, double windowSeconds) {
        return windowSeconds > 0 ? count / windowSeconds : 0;
    }
}
