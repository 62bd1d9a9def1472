package health.carapace.bench;

import java.util.List;

/**
 * CPU and memory during a measured window: the bench's own, each watched server process's, and
 * the whole machine's. A load generator that takes the cores the server needs understates the
 * server, so the bench's share is always reported. {@code machine} is null off Linux (no /proc).
 */
record ResourceUsage(double windowSeconds, int cores, double benchCpuSeconds, List<ProcessUsage> processes,
        MachineUsage machine) {

    /** CPU use as cores kept busy on average: 1.0 is one core fully used. */
    static double cores(double cpuSeconds, double windowSeconds) {
        return windowSeconds > 0 ? cpuSeconds / windowSeconds : 0;
    }

    double benchCores() {
        return cores(benchCpuSeconds, windowSeconds);
    }

    /**
     * One watched process (with its descendants, if asked): CPU over the window, and resident
     * memory sampled about once a second. {@code treeRss*} add the descendants' RSS, counting
     * shared pages once per process (an over-estimate for PostgreSQL's shared buffers).
     */
    record ProcessUsage(String label, long pid, boolean withDescendants, double cpuSeconds, double cpuCores,
            double rssMeanMiB, double rssMaxMiB, double treeRssMeanMiB, double treeRssMaxMiB, int samples,
            boolean exitedDuringWindow) {}

    /**
     * All cores of the machine. {@code otherCores} is what neither the bench nor the watched
     * processes used: other programs, and kernel work not charged to a process (loopback network
     * processing in softirq). On a shared machine a large value means the figures are understated.
     */
    record MachineUsage(double busyPercent, double otherCores) {}
}
