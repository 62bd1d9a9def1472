package health.carapace.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A soak's report: JSON (every minute, every figure, the criteria and the verdict) and a
 * Markdown table for docs/benchmarks/ and RELIABILITY.md.
 */
final class SoakReport {

    static final int FORMAT_VERSION = 1;

    private SoakReport() {
    }

    static String toJson(Soak.Result result) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("tool", "carapace-bench");
        root.put("kind", "soak");
        root.put("formatVersion", FORMAT_VERSION);
        root.put("startedAt", result.startedAt().toString());
        root.put("settings", JsonReport.settings(result.settings()));
        root.put("workload", result.workload().label());
        root.put("intervalSeconds", result.interval().toMillis() / 1000.0);
        Map<String, Object> warmup = new LinkedHashMap<>();
        warmup.put("requests", result.warmupRequests());
        warmup.put("errors", result.warmupErrors());
        warmup.put("errorsByStatus", result.warmupErrorsByStatus());
        root.put("warmup", warmup);
        List<Object> minutes = new ArrayList<>();
        for (Soak.Minute minute : result.minutes()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("minute", minute.number());
            m.put("seconds", minute.seconds());
            m.put("requests", minute.requests());
            m.put("perSecond", minute.perSecond());
            m.put("errors", minute.errors());
            m.put("errorsByStatus", minute.errorsByStatus());
            m.put("transportErrors", minute.transportErrors());
            m.put("p50Ms", minute.p50Millis());
            m.put("p99Ms", minute.p99Millis());
            m.put("maxMs", minute.maxMillis());
            m.put("serverRssMiB", minute.serverRssMiB());
            m.put("serverRssMaxMiB", minute.serverRssMaxMiB());
            m.put("serverCpuCores", minute.serverCpuCores());
            m.put("machineBusyPercent", minute.machineBusyPercent());
            m.put("gc", gc(minute.gc()));
            minutes.add(m);
        }
        root.put("minutes", minutes);
        Map<String, Object> gc = gc(result.gcTotal());
        gc.put("log", result.gcLog());
        root.put("gcTotal", gc);
        root.put("clientsStillWaitingAtEnd", result.clientsStillWaiting());
        root.put("verdict", verdict(result));
        return Json.write(root);
    }

    private static Map<String, Object> gc(GcLog.Summary gc) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("pauses", gc.pauses());
        out.put("fullPauses", gc.fullPauses());
        out.put("pauseTotalMs", gc.totalMillis());
        out.put("pauseMaxMs", gc.maxMillis());
        out.put("heapAfterLastPauseMiB", gc.lastHeapAfterMiB());
        out.put("pausesByKind", gc.byKind());
        return out;
    }

    private static Map<String, Object> verdict(Soak.Result result) {
        SoakVerdict verdict = result.verdict();
        SoakVerdict.Criteria criteria = result.criteria();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("passed", verdict.passed());
        out.put("errors", verdict.errors());
        out.put("judgedFromMinute", criteria.judgedFromMinute() + 1);
        out.put("rss", flatness(verdict.rss()));
        out.put("p99", flatness(verdict.p99()));
        out.put("reasons", verdict.reasons());
        return out;
    }

    private static Map<String, Object> flatness(SoakVerdict.Flatness f) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("series", f.series());
        out.put("fromMinute", f.fromMinute());
        out.put("toMinute", f.toMinute());
        out.put("mean", f.mean());
        out.put("slopePerMinute", f.slopePerMinute());
        out.put("rise", f.rise());
        out.put("maxRise", f.maxRise());
        out.put("maxOverMin", f.spread());
        out.put("maxMaxOverMin", f.maxSpread());
        out.put("flat", f.flat());
        return out;
    }

    static String toMarkdown(Soak.Result result) {
        StringBuilder md = new StringBuilder();
        BenchReport.Settings s = result.settings();
        md.append(String.format(Locale.ROOT, "Soak of %s, %d clients, %d × %.0f s from %s (%s), seed %d; machine before "
                + "start %.0f %% busy, load average %.2f.%n%n", result.workload().label(), s.concurrency(),
                result.minutes().size(), result.interval().toMillis() / 1000.0, result.startedAt(), s.baseUrl(), s.seed(),
                s.machineBefore().busyPercent(), s.machineBefore().loadAverage1m()));
        md.append("| minute | req/s | errors | p50 ms | p99 ms | max ms | server RSS MiB (mean / max) | server CPU (cores) "
                + "| machine busy | GC pauses | GC pause ms (total / max) | heap after last GC MiB |\n");
        md.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Soak.Minute m : result.minutes()) {
            md.append(String.format(Locale.ROOT, "| %d | %.1f | %s | %.1f | %.1f | %.1f | %.0f / %.0f | %.2f | %.0f %% | %d | %.1f / %.1f | %s |%n",
                    m.number(), m.perSecond(), errors(m), m.p50Millis(), m.p99Millis(), m.maxMillis(), m.serverRssMiB(),
                    m.serverRssMaxMiB(), m.serverCpuCores(), m.machineBusyPercent(), m.gc().pauses(),
                    m.gc().totalMillis(), m.gc().maxMillis(),
                    m.gc().lastHeapAfterMiB() == null ? "–" : String.format(Locale.ROOT, "%.0f", m.gc().lastHeapAfterMiB())));
        }
        GcLog.Summary gc = result.gcTotal();
        md.append(String.format(Locale.ROOT, "%nWarm-up: %d requests, %d errors. GC log (%s): %d pauses (%d full), "
                + "%.0f ms in total, longest %.1f ms; by kind %s.%n", result.warmupRequests(), result.warmupErrors(),
                result.gcLog() == null ? "not given" : result.gcLog(), gc.pauses(), gc.fullPauses(), gc.totalMillis(),
                gc.maxMillis(), gc.byKind()));
        SoakVerdict v = result.verdict();
        md.append(String.format(Locale.ROOT, "%n**Verdict: %s.** Errors: %d. ", v.passed() ? "passed" : "not passed",
                v.errors()));
        for (SoakVerdict.Flatness f : List.of(v.rss(), v.p99())) {
            md.append(f.judged() ? String.format(Locale.ROOT,
                    "%s over minutes %d–%d: mean %.1f, slope %+.2f/min, rise %+.1f %% (limit %+.0f %%), max/min %.2f "
                            + "(limit %.2f): %s. ", f.series(), f.fromMinute(), f.toMinute(), f.mean(), f.slopePerMinute(),
                    100 * f.rise(), 100 * f.maxRise(), f.spread(), f.maxSpread(), f.flat() ? "flat" : "NOT flat")
                    : f.series() + ": not judged (too few minutes). ");
        }
        if (!v.reasons().isEmpty()) {
            md.append("\n\nWhy not: ").append(String.join("; ", v.reasons())).append('.');
        }
        return md.append('\n').toString();
    }

    private static String errors(Soak.Minute m) {
        if (m.errors() == 0) {
            return "0";
        }
        List<String> parts = new ArrayList<>();
        m.errorsByStatus().forEach((status, count) -> parts.add(count + "×" + status));
        m.transportErrors().forEach((kind, count) -> parts.add(count + "×" + kind));
        return String.join(", ", parts);
    }
}
