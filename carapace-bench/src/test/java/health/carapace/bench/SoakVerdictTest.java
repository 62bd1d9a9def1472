package health.carapace.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The soak's verdict: zero errors, and RSS and p99 flat by rise and by spread after the first minutes. */
class SoakVerdictTest {

    private static final SoakVerdict.Criteria CRITERIA = SoakVerdict.Criteria.DEFAULT;

    /** 30 minutes: the first five anything (warming up), then {@code judged} repeated or as given. */
    private static double[] minutes(double warmingUp, double... judged) {
        double[] all = new double[5 + judged.length];
        Arrays.fill(all, 0, 5, warmingUp);
        System.arraycopy(judged, 0, all, 5, judged.length);
        return all;
    }

    private static double[] constant(double value, int count) {
        double[] values = new double[count];
        Arrays.fill(values, value);
        return values;
    }

    /** A line from {@code first} to {@code last} over {@code count} minutes. */
    private static double[] line(double first, double last, int count) {
        double[] values = new double[count];
        for (int i = 0; i < count; i++) {
            values[i] = first + (last - first) * i / (count - 1);
        }
        return values;
    }

    @Test
    void steadyMemoryAndLatencyWithNoErrorsPass() {
        // RSS wobbling by a few MiB around 600, p99 between 40 and 60 ms; the warm-up minutes are not judged
        double[] rss = minutes(300, 600, 603, 598, 601, 604, 597, 600, 602, 599, 601, 600, 603, 598, 601, 604, 597,
                600, 602, 599, 601, 600, 603, 598, 601, 600);
        double[] p99 = minutes(400, 50, 45, 55, 60, 40, 52, 48, 51, 58, 44, 50, 47, 53, 49, 51, 46, 54, 50, 52, 48, 45,
                55, 50, 49, 51);

        SoakVerdict verdict = SoakVerdict.judge(0, rss, p99, CRITERIA);

        assertThat(verdict.passed()).as(verdict.reasons().toString()).isTrue();
        assertThat(verdict.rss().fromMinute()).isEqualTo(6);
        assertThat(verdict.rss().toMinute()).isEqualTo(30);
        assertThat(verdict.rss().spread()).isCloseTo(604.0 / 597, within(1e-9));
    }

    @Test
    void aSingleErrorFailsEvenWhenEverythingIsFlat() {
        SoakVerdict verdict = SoakVerdict.judge(1, constant(600, 30), constant(50, 30), CRITERIA);

        assertThat(verdict.passed()).isFalse();
        assertThat(verdict.reasons()).singleElement().asString().startsWith("1 error ");
    }

    @Test
    void memoryGrowingSteadilyIsALeakEvenWithinTheSpreadLimit() {
        // 570 -> 630 MiB over 25 minutes: max/min 1.105 would nearly pass; the rise of 10 % does not
        double[] rss = minutes(300, line(570, 626, 25));
        SoakVerdict verdict = SoakVerdict.judge(0, rss, constant(50, 30), CRITERIA);

        assertThat(verdict.rss().spread()).isLessThan(CRITERIA.maxRssSpread());
        assertThat(verdict.rss().rise()).isCloseTo(56.0 / 598, within(1e-9));
        assertThat(verdict.rss().slopePerMinute()).isCloseTo(56.0 / 24, within(1e-9));
        assertThat(verdict.passed()).isFalse();
        assertThat(verdict.reasons()).singleElement().asString().contains("server RSS (MiB) not flat over minutes 6-30");
    }

    @Test
    void memoryJustUnderTheRiseLimitIsFlat() {
        // a 4.9 % rise and a spread below 1.10: flat
        double[] rss = minutes(300, line(600, 629, 25));
        SoakVerdict verdict = SoakVerdict.judge(0, rss, constant(50, 30), CRITERIA);

        assertThat(verdict.rss().rise()).isLessThan(0.05);
        assertThat(verdict.passed()).as(verdict.reasons().toString()).isTrue();
    }

    @Test
    void aBurstOfSlowMinutesIsNotFlatThoughTheTrendIsLevel() {
        // p99 at 100 ms for minutes 17-19, in the middle of the judged span: the fitted line is level, the spread 2.5
        double[] p99 = minutes(50, constant(40, 25));
        Arrays.fill(p99, 16, 19, 100);
        SoakVerdict verdict = SoakVerdict.judge(0, constant(600, 30), p99, CRITERIA);

        assertThat(verdict.p99().rise()).isCloseTo(0, within(1e-9));
        assertThat(verdict.p99().spread()).isEqualTo(2.5);
        assertThat(verdict.p99().flat()).isFalse();
        assertThat(verdict.passed()).isFalse();
    }

    @Test
    void latencyFallingAsTheServerSettlesIsNoFailure() {
        double[] p99 = minutes(200, line(70, 40, 25));
        SoakVerdict verdict = SoakVerdict.judge(0, constant(600, 30), p99, CRITERIA);

        assertThat(verdict.p99().rise()).isNegative();
        assertThat(verdict.passed()).as(verdict.reasons().toString()).isTrue();
    }

    @Test
    void tooFewMinutesAfterTheWarmUpCannotPass() {
        SoakVerdict verdict = SoakVerdict.judge(0, constant(600, 7), constant(50, 7), CRITERIA);

        assertThat(verdict.rss().judged()).isFalse();
        assertThat(verdict.passed()).isFalse();
        assertThat(verdict.reasons()).hasSize(2).allMatch(reason -> reason.contains("fewer than 3 minutes"));
    }

    @Test
    void aMinuteWithoutMeasuredMemoryIsNotFlat() {
        // the watched server stopped answering /proc: NaN is never judged flat
        double[] rss = constant(600, 30);
        rss[20] = Double.NaN;
        SoakVerdict verdict = SoakVerdict.judge(0, rss, constant(50, 30), CRITERIA);

        assertThat(verdict.passed()).isFalse();
        assertThat(verdict.reasons()).singleElement().asString().contains("not measured in every minute");
    }
}
