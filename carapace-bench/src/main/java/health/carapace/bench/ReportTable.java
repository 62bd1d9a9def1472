package health.carapace.bench;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** The report as a plain-text table for the terminal; the JSON file has the same figures and more. */
final class ReportTable {

    private static final String ROW = "%-38s %10s %10s %8s %8s %8s %8s  %s%n";

    private ReportTable() {
    }

    static void print(BenchReport report, PrintWriter out) {
        BenchReport.Settings settings = report.settings();
        out.printf(Locale.ROOT, "%ncarapace-bench: %s, %d clients, warm-up %s, measured %s, seed %d, auth %s%n%n",
                settings.baseUrl(), settings.concurrency(), seconds(settings.warmup().toMillis() / 1000.0),
                seconds(settings.duration().toMillis() / 1000.0), settings.seed(), settings.authentication());
        out.printf(Locale.ROOT, "machine before start: %.0f%% busy, load average %.2f%n%n",
                settings.machineBefore().busyPercent(), settings.machineBefore().loadAverage1m());
        out.printf(Locale.ROOT, ROW, "workload", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors");
        for (WorkloadResult result : report.workloads()) {
            row(out, result.workload().label(), result.total(), result.windowSeconds(), errors(result));
            if (result.operations().size() > 1) {
                for (OperationStats.Snapshot operation : result.operations()) {
                    String name = "  " + operation.operation().label() + " ("
                            + result.workload().weights().get(operation.operation()) + "%)";
                    row(out, name, operation, result.windowSeconds(), errorSummary(operation));
                }
            }
        }
        out.printf(Locale.ROOT, "%nresources while measuring (CPU in cores kept busy on average; machine has %d):%n",
                report.workloads().isEmpty() ? Runtime.getRuntime().availableProcessors()
                        : report.workloads().get(0).usage().cores());
        for (WorkloadResult result : report.workloads()) {
            out.printf(Locale.ROOT, "  %-30s %s%n", result.workload().label(), resources(result.usage()));
        }
        out.flush();
    }

    private static void row(PrintWriter out, String name, OperationStats.Snapshot stats, double windowSeconds,
            String errors) {
        long requests = stats.responses() + stats.transportErrorCount();
        Histogram latency = stats.latencyMicros();
        boolean none = latency.getTotalCount() == 0;
        out.printf(Locale.ROOT, ROW, name, String.format(Locale.ROOT, "%,d", requests),
                String.format(Locale.ROOT, "%,.1f", WorkloadResult.perSecond(requests, windowSeconds)),
                none ? "-" : ms(latency.getValueAtPercentile(50)), none ? "-" : ms(latency.getValueAtPercentile(90)),
                none ? "-" : ms(latency.getValueAtPercentile(99)), none ? "-" : ms(latency.getMaxValue()), errors);
    }

    /** The measured window's errors, then the warm-up's, then clients that never got an answer. */
    static String errors(WorkloadResult result) {
        List<String> parts = new ArrayList<>();
        parts.add(errorSummary(result.total()));
        if (result.warmupTotal().errors() > 0) {
            parts.add("warm-up: " + errorSummary(result.warmupTotal()));
        }
        if (result.clientsStillWaiting() > 0) {
            parts.add(result.clientsStillWaiting() + " clients still waiting after the drain timeout");
        }
        return String.join("; ", parts);
    }

    /** E.g. {@code none}, or {@code 503 x12, timeout x3}. */
    static String errorSummary(OperationStats.Snapshot stats) {
        List<String> parts = new ArrayList<>();
        for (Map.Entry<Integer, Long> error : stats.errorsByStatus().entrySet()) {
            parts.add(error.getKey() + " x" + error.getValue());
        }
        for (Map.Entry<String, Long> error : stats.transportErrors().entrySet()) {
            parts.add(error.getKey() + " x" + error.getValue());
        }
        return parts.isEmpty() ? "none" : String.join(", ", parts);
    }

    private static String resources(ResourceUsage usage) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "bench %.2f", usage.benchCores()));
        for (ResourceUsage.ProcessUsage process : usage.processes()) {
            line.append(String.format(Locale.ROOT, "   %s %.2f (RSS mean %.0f, max %.0f MiB", process.label(),
                    process.cpuCores(), process.rssMeanMiB(), process.rssMaxMiB()));
            if (process.withDescendants()) {
                line.append(String.format(Locale.ROOT, "; with descendants max %.0f MiB", process.treeRssMaxMiB()));
            }
            line.append(process.exitedDuringWindow() ? "; EXITED)" : ")");
        }
        if (usage.machine() != null) {
            line.append(String.format(Locale.ROOT, "   machine %.0f%% busy, everything else %.2f",
                    usage.machine().busyPercent(), usage.machine().otherCores()));
        }
        return line.toString();
    }

    private static String ms(long micros) {
        return String.format(Locale.ROOT, "%.1f", micros / 1000.0);
    }

    private static String seconds(double seconds) {
        return (seconds == Math.rint(seconds) ? String.valueOf((long) seconds) : String.valueOf(seconds)) + " s";
    }
}
