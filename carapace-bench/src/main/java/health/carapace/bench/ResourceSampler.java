package health.carapace.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Samples CPU and memory while a measured window is open: the bench's own process CPU time (from
 * the JVM), and for each watched process, such as the server's JVM or PostgreSQL's postmaster,
 * CPU time and VmRSS from /proc about once a second.
 */
final class ResourceSampler implements LoadDriver.WindowListener {

    /** A process to watch, with the label the report gives it ("server", "postgres"...). */
    record WatchedProcess(String label, long pid) {}

    private static final long SAMPLE_INTERVAL_MILLIS = 1000;
    private static final double KIB_PER_MIB = 1024.0;

    private final List<WatchedProcess> watched;
    private final boolean withDescendants;
    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final List<Tracker> trackers = new ArrayList<>();
    private ScheduledExecutorService scheduler;
    private ScheduledFuture<?> sampling;
    private long openedNanos;
    private long closedNanos;
    private long benchCpuAtOpen;
    private long benchCpuAtClose;
    private Optional<ProcFs.MachineTicks> machineAtOpen = Optional.empty();
    private Optional<ProcFs.MachineTicks> machineAtClose = Optional.empty();

    ResourceSampler(List<WatchedProcess> watched, boolean withDescendants) {
        this.watched = List.copyOf(watched);
        this.withDescendants = withDescendants;
    }

    @Override
    public void opened() {
        trackers.clear();
        machineAtOpen = ProcFs.machineTicks();
        for (WatchedProcess process : watched) {
            Tracker tracker = new Tracker(process);
            tracker.sample(true);
            trackers.add(tracker);
        }
        benchCpuAtOpen = os.getProcessCpuTime();
        openedNanos = System.nanoTime();
        if (!trackers.isEmpty()) {
            scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
                Thread thread = new Thread(runnable, "resource-sampler");
                thread.setDaemon(true);
                return thread;
            });
            sampling = scheduler.scheduleAtFixedRate(this::sampleAll, SAMPLE_INTERVAL_MILLIS, SAMPLE_INTERVAL_MILLIS,
                    TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void closed() {
        closedNanos = System.nanoTime();
        benchCpuAtClose = os.getProcessCpuTime();
        machineAtClose = ProcFs.machineTicks();
        if (scheduler != null) {
            sampling.cancel(false);
            scheduler.shutdown();
            try {
                scheduler.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            scheduler = null;
        }
        sampleAll();
    }

    private synchronized void sampleAll() {
        trackers.forEach(tracker -> tracker.sample(false));
    }

    ResourceUsage usage() {
        double window = (closedNanos - openedNanos) / 1e9;
        double benchCpu = Math.max(0, benchCpuAtClose - benchCpuAtOpen) / 1e9;
        List<ResourceUsage.ProcessUsage> processes = new ArrayList<>();
        for (Tracker tracker : trackers) {
            processes.add(tracker.usage(window));
        }
        ResourceUsage.MachineUsage machine = null;
        if (machineAtOpen.isPresent() && machineAtClose.isPresent()) {
            long busy = machineAtClose.get().busy() - machineAtOpen.get().busy();
            long total = machineAtClose.get().total() - machineAtOpen.get().total();
            double busyPercent = total > 0 ? 100.0 * busy / total : 0;
            int cores = Runtime.getRuntime().availableProcessors();
            double accounted = ResourceUsage.cores(benchCpu, window)
                    + processes.stream().mapToDouble(ResourceUsage.ProcessUsage::cpuCores).sum();
            machine = new ResourceUsage.MachineUsage(busyPercent, Math.max(0, busyPercent / 100 * cores - accounted));
        }
        return new ResourceUsage(window, Runtime.getRuntime().availableProcessors(), benchCpu, processes, machine);
    }

    /** CPU ticks per pid of one watched tree, and the RSS samples of its root and the whole tree. */
    private final class Tracker {
        private final WatchedProcess process;
        private final Map<Long, Long> ticksAtFirstSight = new HashMap<>();
        private final Map<Long, Long> ticksAtLastSight = new HashMap<>();
        private long rssSumKiB;
        private long rssMaxKiB;
        private long treeRssSumKiB;
        private long treeRssMaxKiB;
        private int samples;
        private boolean exited;

        Tracker(WatchedProcess process) {
            this.process = process;
        }

        void sample(boolean atOpen) {
            Set<Long> pids = new LinkedHashSet<>();
            pids.add(process.pid());
            if (withDescendants) {
                ProcessHandle.of(process.pid()).ifPresent(root -> root.descendants().forEach(p -> pids.add(p.pid())));
            }
            long treeRss = 0;
            for (long pid : pids) {
                OptionalLong ticks = ProcFs.processCpuTicks(pid);
                if (ticks.isEmpty()) {
                    if (pid == process.pid()) {
                        exited = true;
                    }
                    continue;
                }
                // A process first seen after the window opened was born inside it: all its CPU counts.
                ticksAtFirstSight.putIfAbsent(pid, atOpen ? ticks.getAsLong() : 0L);
                ticksAtLastSight.put(pid, ticks.getAsLong());
                if (!atOpen) {
                    OptionalLong rss = ProcFs.residentKiB(pid);
                    if (rss.isPresent()) {
                        treeRss += rss.getAsLong();
                        if (pid == process.pid()) {
                            rssSumKiB += rss.getAsLong();
                            rssMaxKiB = Math.max(rssMaxKiB, rss.getAsLong());
                        }
                    }
                }
            }
            if (!atOpen && !exited) {
                treeRssSumKiB += treeRss;
                treeRssMaxKiB = Math.max(treeRssMaxKiB, treeRss);
                samples++;
            }
        }

        ResourceUsage.ProcessUsage usage(double windowSeconds) {
            long ticks = 0;
            for (Map.Entry<Long, Long> last : ticksAtLastSight.entrySet()) {
                ticks += last.getValue() - ticksAtFirstSight.get(last.getKey());
            }
            double cpuSeconds = (double) ticks / ProcFs.TICKS_PER_SECOND;
            double n = Math.max(1, samples);
            return new ResourceUsage.ProcessUsage(process.label(), process.pid(), withDescendants, cpuSeconds,
                    ResourceUsage.cores(cpuSeconds, windowSeconds), rssSumKiB / n / KIB_PER_MIB, rssMaxKiB / KIB_PER_MIB,
                    treeRssSumKiB / n / KIB_PER_MIB, treeRssMaxKiB / KIB_PER_MIB, samples, exited);
        }
    }
}
