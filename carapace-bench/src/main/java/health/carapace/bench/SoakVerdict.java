package health.carapace.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Whether a soak held: no error at all (every response 2xx, no transport failure, warm-up
 * included), and the server's resident memory and the p99 latency flat over the judged minutes.
 *
 * <p><b>Flat</b> is two numbers, both needed. (1) The <em>rise</em>: the slope of a least-squares
 * line through the per-minute values, times the judged span, over their mean — the share by
 * which the trend says the value grew from the first judged minute to the last. A leak, a table
 * scanned more each minute or a cache that never stops growing shows as a steady rise however
 * noisy the minutes are; a fall (JIT and caches still settling) is not a failure. (2) The
 * <em>spread</em>: the largest minute over the smallest. It catches what a line does not: a
 * value that jumps and stays (a cache filled at once), or minutes so unsteady that no trend can
 * be read. Memory is held tighter than latency: after the heap is committed a healthy JVM's
 * RSS moves by a few MiB, while a minute's p99 rests on about 1 % of its requests and moves with
 * every GC and every neighbour on a shared machine.
 */
record SoakVerdict(boolean passed, long errors, Flatness rss, Flatness p99, List<String> reasons) {

    /** The limits; the defaults are the ones docs/RELIABILITY.md explains. */
    record Criteria(int judgedFromMinute, double maxRssRise, double maxRssSpread, double maxP99Rise,
            double maxP99Spread) {

        static final Criteria DEFAULT = new Criteria(5, 0.05, 1.10, 0.20, 2.0);

        Criteria {
            if (judgedFromMinute < 0 || maxRssRise < 0 || maxP99Rise < 0 || maxRssSpread < 1 || maxP99Spread < 1) {
                throw new IllegalArgumentException("rises must not be negative and spreads at least 1");
            }
        }
    }

    /** Fewer judged minutes than this and no trend can be read: the soak is not passed. */
    static final int MIN_JUDGED_MINUTES = 3;

    /**
     * One series judged over minutes {@code fromMinute}..{@code toMinute} (one-based, inclusive).
     *
     * @param slopePerMinute of the least-squares line, in the series' unit per minute
     * @param rise the line's change over the span, as a share of the mean (0.05 = 5 %)
     * @param spread largest value over smallest
     */
    record Flatness(String series, int fromMinute, int toMinute, double mean, double slopePerMinute, double rise,
            double spread, double maxRise, double maxSpread, boolean flat) {

        static Flatness of(String series, double[] byMinute, int judgedFrom, double maxRise, double maxSpread) {
            int n = byMinute.length - judgedFrom;
            if (n < MIN_JUDGED_MINUTES) {
                return new Flatness(series, judgedFrom + 1, byMinute.length, Double.NaN, Double.NaN, Double.NaN,
                        Double.NaN, maxRise, maxSpread, false);
            }
            double meanX = (n - 1) / 2.0;
            double sumY = 0;
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                double y = byMinute[judgedFrom + i];
                sumY += y;
                min = Math.min(min, y);
                max = Math.max(max, y);
            }
            double meanY = sumY / n;
            double covariance = 0;
            double variance = 0;
            for (int i = 0; i < n; i++) {
                covariance += (i - meanX) * (byMinute[judgedFrom + i] - meanY);
                variance += (i - meanX) * (i - meanX);
            }
            double slope = covariance / variance;
            double rise = meanY > 0 ? slope * (n - 1) / meanY : Double.POSITIVE_INFINITY;
            double spread = min > 0 ? max / min : Double.POSITIVE_INFINITY;
            boolean flat = Double.isFinite(meanY) && rise <= maxRise && spread <= maxSpread;
            return new Flatness(series, judgedFrom + 1, byMinute.length, meanY, slope, rise, spread, maxRise, maxSpread,
                    flat);
        }

        /** Whether there were enough minutes to judge (a series with a minute not measured is judged, and not flat). */
        boolean judged() {
            return toMinute - fromMinute + 1 >= MIN_JUDGED_MINUTES;
        }
    }

    /**
     * @param errors every non-2xx response and transport failure of the whole run, warm-up included
     * @param rssMiB the server's mean resident memory per minute
     * @param p99Millis the p99 latency per minute, all operations together
     */
    static SoakVerdict judge(long errors, double[] rssMiB, double[] p99Millis, Criteria criteria) {
        Flatness rss = Flatness.of("server RSS (MiB)", rssMiB, criteria.judgedFromMinute(), criteria.maxRssRise(),
                criteria.maxRssSpread());
        Flatness p99 = Flatness.of("p99 (ms)", p99Millis, criteria.judgedFromMinute(), criteria.maxP99Rise(),
                criteria.maxP99Spread());
        List<String> reasons = new ArrayList<>();
        if (errors > 0) {
            reasons.add(errors + " error" + (errors == 1 ? "" : "s") + " (non-2xx responses or transport failures)");
        }
        for (Flatness series : List.of(rss, p99)) {
            if (!series.judged()) {
                reasons.add(series.series() + ": fewer than " + MIN_JUDGED_MINUTES + " minutes after minute "
                        + criteria.judgedFromMinute() + " to judge");
            } else if (!Double.isFinite(series.mean())) {
                reasons.add(series.series() + ": not measured in every minute from minute " + series.fromMinute());
            } else if (!series.flat()) {
                reasons.add(String.format(java.util.Locale.ROOT,
                        "%s not flat over minutes %d-%d: rise %+.1f %% (limit %+.1f %%), max/min %.2f (limit %.2f)",
                        series.series(), series.fromMinute(), series.toMinute(), 100 * series.rise(),
                        100 * series.maxRise(), series.spread(), series.maxSpread()));
            }
        }
        return new SoakVerdict(reasons.isEmpty(), errors, rss, p99, List.copyOf(reasons));
    }
}
