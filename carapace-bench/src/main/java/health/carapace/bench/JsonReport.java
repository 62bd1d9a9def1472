package health.carapace.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.HdrHistogram.Histogram;

/**
 * The report as JSON: one object per workload with throughput, latency percentiles, every
 * response status and every transport failure, the warm-up's errors, and the CPU and memory
 * used. The shape is documented in docs/BENCHMARKS.md; a field is never left out because it
 * is zero, so that scripts comparing runs can rely on it.
 */
final class JsonReport {

    static final int FORMAT_VERSION = 1;

    private JsonReport() {
    }

    static String toJson(BenchReport report) {
        return Json.write(tree(report));
    }

    static Map<String, Object> tree(BenchReport report) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("tool", "carapace-bench");
        root.put("formatVersion", FORMAT_VERSION);
        root.put("startedAt", report.startedAt().toString());
        root.put("settings", settings(report.settings()));
        List<Object> workloads = new ArrayList<>();
        for (WorkloadResult result : report.workloads()) {
            workloads.add(workload(result));
        }
        root.put("workloads", workloads);
        return root;
    }

    static Map<String, Object> settings(BenchReport.Settings settings) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("baseUrl", settings.baseUrl());
        out.put("concurrency", settings.concurrency());
        out.put("warmupSeconds", settings.warmup().toMillis() / 1000.0);
        out.put("durationSeconds", settings.duration().toMillis() / 1000.0);
        out.put("seed", settings.seed());
        out.put("datasetPatients", settings.datasetPatients());
        out.put("observationsPerPatient", settings.observationsPerPatient());
        out.put("authentication", settings.authentication());
        out.put("requestTimeoutSeconds", settings.requestTimeout().toMillis() / 1000.0);
        out.put("java", settings.javaVersion());
        out.put("availableProcessors", settings.availableProcessors());
        Map<String, Object> before = new LinkedHashMap<>();
        before.put("busyPercent", settings.machineBefore().busyPercent());
        before.put("loadAverage1m", settings.machineBefore().loadAverage1m());
        out.put("machineBeforeStart", before);
        return out;
    }

    private static Map<String, Object> workload(WorkloadResult result) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", result.workload().label());
        out.put("windowSeconds", result.windowSeconds());
        out.putAll(outcome(result.total(), result.windowSeconds()));
        List<Object> operations = new ArrayList<>();
        for (OperationStats.Snapshot operation : result.operations()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", operation.operation().label());
            entry.put("request", operation.operation().request());
            entry.put("share", result.workload().weights().get(operation.operation()) / 100.0);
            entry.putAll(outcome(operation, result.windowSeconds()));
            operations.add(entry);
        }
        out.put("operations", operations);
        Map<String, Object> warmup = new LinkedHashMap<>();
        warmup.put("requests", result.warmupTotal().responses() + result.warmupTotal().transportErrorCount());
        warmup.put("errors", result.warmupTotal().errors());
        warmup.put("errorsByStatus", keyed(result.warmupTotal().errorsByStatus()));
        warmup.put("transportErrors", keyed(result.warmupTotal().transportErrors()));
        out.put("warmup", warmup);
        out.put("clientsStillWaitingAfterDrain", result.clientsStillWaiting());
        out.put("resources", resources(result.usage()));
        return out;
    }

    /** The fields shared by a workload's total and each of its operations. */
    private static Map<String, Object> outcome(OperationStats.Snapshot stats, double windowSeconds) {
        Map<String, Object> out = new LinkedHashMap<>();
        long requests = stats.responses() + stats.transportErrorCount();
        out.put("requests", requests);
        out.put("successes", stats.successes());
        out.put("errors", stats.errors());
        out.put("throughputPerSecond", WorkloadResult.perSecond(requests, windowSeconds));
        out.put("successesPerSecond", WorkloadResult.perSecond(stats.successes(), windowSeconds));
        out.put("latencyMs", latency(stats.latencyMicros()));
        out.put("responsesByStatus", keyed(stats.responsesByStatus()));
        out.put("errorsByStatus", keyed(stats.errorsByStatus()));
        out.put("transportErrors", keyed(stats.transportErrors()));
        return out;
    }

    /** Percentiles in milliseconds; all null when no response arrived (0 ms would be a lie). */
    static Map<String, Object> latency(Histogram micros) {
        Map<String, Object> out = new LinkedHashMap<>();
        boolean empty = micros.getTotalCount() == 0;
        out.put("p50", empty ? null : millis(micros.getValueAtPercentile(50)));
        out.put("p90", empty ? null : millis(micros.getValueAtPercentile(90)));
        out.put("p99", empty ? null : millis(micros.getValueAtPercentile(99)));
        out.put("p999", empty ? null : millis(micros.getValueAtPercentile(99.9)));
        out.put("max", empty ? null : millis(micros.getMaxValue()));
        out.put("mean", empty ? null : micros.getMean() / 1000.0);
        return out;
    }

    private static Double millis(long micros) {
        return micros / 1000.0;
    }

    private static Map<String, Object> keyed(SortedMap<?, Long> counts) {
        Map<String, Object> out = new LinkedHashMap<>();
        counts.forEach((key, count) -> out.put(String.valueOf(key), count));
        return out;
    }

    private static Map<String, Object> resources(ResourceUsage usage) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("windowSeconds", usage.windowSeconds());
        out.put("cores", usage.cores());
        Map<String, Object> bench = new LinkedHashMap<>();
        bench.put("cpuSeconds", usage.benchCpuSeconds());
        bench.put("cpuCores", usage.benchCores());
        out.put("bench", bench);
        List<Object> processes = new ArrayList<>();
        for (ResourceUsage.ProcessUsage process : usage.processes()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("label", process.label());
            entry.put("pid", process.pid());
            entry.put("withDescendants", process.withDescendants());
            entry.put("cpuSeconds", process.cpuSeconds());
            entry.put("cpuCores", process.cpuCores());
            entry.put("rssMeanMiB", process.rssMeanMiB());
            entry.put("rssMaxMiB", process.rssMaxMiB());
            if (process.withDescendants()) {
                entry.put("treeRssMeanMiB", process.treeRssMeanMiB());
                entry.put("treeRssMaxMiB", process.treeRssMaxMiB());
            }
            entry.put("samples", process.samples());
            entry.put("exitedDuringWindow", process.exitedDuringWindow());
            processes.add(entry);
        }
        out.put("processes", processes);
        if (usage.machine() == null) {
            out.put("machine", null);
        } else {
            Map<String, Object> machine = new LinkedHashMap<>();
            machine.put("busyPercent", usage.machine().busyPercent());
            machine.put("otherCores", usage.machine().otherCores());
            out.put("machine", machine);
        }
        return out;
    }
}
