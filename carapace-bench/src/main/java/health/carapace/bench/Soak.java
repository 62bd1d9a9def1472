package health.carapace.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;

/**
 * A soak (issue 21 item 8): one workload with N clients for a long time, cut into minutes that
 * follow each other without a pause, each minute recorded on its own — throughput, errors by
 * status, p50/p99/max, the server's resident memory and CPU (from /proc), its GC pauses (from
 * its GC log) — and judged at the end ({@link SoakVerdict}).
 */
final class Soak {

    /** One interval (normally a minute) of the soak. {@code server*} are NaN without a watched process. */
    record Minute(int number, double seconds, long requests, double perSecond, SortedMap<Integer, Long> errorsByStatus,
            SortedMap<String, Long> transportErrors, long errors, double p50Millis, double p99Millis,
            double maxMillis, double serverRssMiB, double serverRssMaxMiB, double serverCpuCores,
            double machineBusyPercent, GcLog.Summary gc) {}

    /** The whole soak: its settings, the warm-up's errors, every minute, the GC log's summary and the verdict. */
    record Result(Instant startedAt, BenchReport.Settings settings, Workload workload, Duration interval,
            long warmupRequests, long warmupErrors, SortedMap<Integer, Long> warmupErrorsByStatus,
            List<Minute> minutes, GcLog.Summary gcTotal, String gcLog, long clientsStillWaiting,
            SoakVerdict.Criteria criteria, SoakVerdict verdict) {}

    private Soak() {
    }

    static Result run(LoadDriver driver, Workload workload, int concurrency, Duration warmup, Duration interval,
            int minutes, long seed, Duration drainTimeout, List<ResourceSampler.WatchedProcess> watched,
            boolean withDescendants, Path gcLog, SoakVerdict.Criteria criteria, BenchReport.Settings settings,
            PrintWriter progress) throws InterruptedException, IOException {
        Instant startedAt = Instant.now();
        Map<Integer, ResourceSampler> samplers = new HashMap<>();
        Map<Integer, Instant> starts = new HashMap<>();
        List<LoadDriver.Interval> intervals = new ArrayList<>();
        List<ResourceUsage> usages = new ArrayList<>();
        LoadDriver.IntervalRun run = driver.runInIntervals(workload, concurrency, warmup, interval, minutes, seed,
                drainTimeout, new LoadDriver.IntervalListener() {
                    @Override
                    public void opened(int index) {
                        ResourceSampler sampler = new ResourceSampler(watched, withDescendants);
                        samplers.put(index, sampler);
                        starts.put(index, Instant.now());
                        sampler.opened();
                    }

                    @Override
                    public void closed(LoadDriver.Interval closed) {
                        ResourceSampler sampler = samplers.remove(closed.index());
                        sampler.closed();
                        usages.add(sampler.usage());
                        intervals.add(closed);
                        // the stats of a minute are read after the drain (late answers still count in it);
                        // this line is progress only
                        OperationStats.Snapshot sofar = OperationStats.Snapshot.merge(null, closed.phase().snapshots());
                        progress.printf(Locale.ROOT, "minute %d: %,.1f req/s, errors so far in it %d, p99 %.1f ms%s%n",
                                closed.index() + 1, sofar.responses() / (closed.length().toNanos() / 1e9), sofar.errors(),
                                sofar.latencyMicros().getValueAtPercentile(99) / 1000.0,
                                serverRss(sampler.usage()).map(rss -> String.format(Locale.ROOT, ", server RSS %.0f MiB",
                                        rss)).orElse(""));
                        progress.flush();
                    }
                });
        List<GcLog.Pause> pauses = gcLog == null ? List.of() : GcLog.read(gcLog);
        List<Minute> judged = new ArrayList<>();
        for (int i = 0; i < intervals.size(); i++) {
            LoadDriver.Interval recorded = intervals.get(i);
            Instant from = starts.get(recorded.index());
            judged.add(minute(recorded, usages.get(i), GcLog.Summary.between(pauses, from,
                    from.plus(recorded.length()))));
        }
        OperationStats.Snapshot warm = OperationStats.Snapshot.merge(null, run.warmup().snapshots());
        long errors = warm.errors() + judged.stream().mapToLong(Minute::errors).sum();
        SoakVerdict verdict = SoakVerdict.judge(errors,
                judged.stream().mapToDouble(Minute::serverRssMiB).toArray(),
                judged.stream().mapToDouble(Minute::p99Millis).toArray(), criteria);
        return new Result(startedAt, settings, workload, interval, warm.responses() + warm.transportErrorCount(),
                warm.errors(), warm.errorsByStatus(), List.copyOf(judged), GcLog.Summary.of(pauses),
                gcLog == null ? null : gcLog.toString(), run.requestsStillInFlight(), criteria, verdict);
    }

    static Minute minute(LoadDriver.Interval interval, ResourceUsage usage, GcLog.Summary gc) {
        OperationStats.Snapshot total = OperationStats.Snapshot.merge(null, interval.phase().snapshots());
        double seconds = interval.length().toNanos() / 1e9;
        long requests = total.responses() + total.transportErrorCount();
        ResourceUsage.ProcessUsage server = usage.processes().isEmpty() ? null : usage.processes().get(0);
        return new Minute(interval.index() + 1, seconds, requests, WorkloadResult.perSecond(requests, seconds),
                total.errorsByStatus(), total.transportErrors(), total.errors(),
                total.latencyMicros().getValueAtPercentile(50) / 1000.0,
                total.latencyMicros().getValueAtPercentile(99) / 1000.0,
                total.latencyMicros().getMaxValue() / 1000.0,
                server == null ? Double.NaN : server.rssMeanMiB(), server == null ? Double.NaN : server.rssMaxMiB(),
                server == null ? Double.NaN : server.cpuCores(),
                usage.machine() == null ? Double.NaN : usage.machine().busyPercent(), gc);
    }

    private static java.util.Optional<Double> serverRss(ResourceUsage usage) {
        return usage.processes().isEmpty() ? java.util.Optional.empty()
                : java.util.Optional.of(usage.processes().get(0).rssMeanMiB());
    }
}
