package health.carapace.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pauses of a unified GC log as the soak's server writes it. */
class GcLogTest {

    private static final List<String> LOG = List.of(
            "[2026-12-05T09:00:00.100+0000][0.010s][info][gc,init] Heap Region Size: 1M",
            "[2026-12-05T09:00:10.000+0000][10.000s][info][gc,start    ] GC(0) Pause Young (Normal) (G1 Evacuation Pause)",
            "[2026-12-05T09:00:10.004+0000][10.004s][info][gc,phases   ] GC(0)   Evacuate Collection Set: 3.1ms",
            "[2026-12-05T09:00:10.005+0000][10.005s][info][gc          ] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 120M->40M(256M) 4.512ms",
            "[2026-12-05T09:00:59.000+0000][59.000s][info][gc          ] GC(1) Pause Remark 90M->90M(256M) 1.250ms",
            "[2026-12-05T09:00:59.500+0000][59.500s][info][gc          ] GC(1) Concurrent Mark Cycle 35.000ms",
            "[2026-12-05T09:01:30.000+0000][90.000s][info][gc          ] GC(2) Pause Full (System.gc()) 200M->60M(512M) 80.000ms",
            "[2026-12-05T09:01:31.000+0000][91.000s][info][gc          ] GC(3) Pause Young (Normal) (G1 Evacuation Pause) 1024K->512K(1G) 0.500ms");

    @Test
    void readsEveryPauseAndNothingElse() {
        List<GcLog.Pause> pauses = GcLog.parse(LOG);

        assertThat(pauses).extracting(GcLog.Pause::kind).containsExactly(
                "Pause Young (Normal) (G1 Evacuation Pause)", "Pause Remark", "Pause Full (System.gc())",
                "Pause Young (Normal) (G1 Evacuation Pause)");
        assertThat(pauses.get(0).at()).isEqualTo(Instant.parse("2026-12-05T09:00:10.005Z"));
        assertThat(pauses.get(0).heapAfterMiB()).isEqualTo(40);
        assertThat(pauses.get(3).heapAfterMiB()).isEqualTo(0.5);
        assertThat(pauses.get(3).heapCommittedMiB()).isEqualTo(1024);
        assertThat(pauses.get(2).full()).isTrue();
    }

    @Test
    void summarisesAMinuteByTheWallClock() {
        List<GcLog.Pause> pauses = GcLog.parse(LOG);

        GcLog.Summary first = GcLog.Summary.between(pauses, Instant.parse("2026-12-05T09:00:00Z"),
                Instant.parse("2026-12-05T09:01:00Z"));
        GcLog.Summary total = GcLog.Summary.of(pauses);

        assertThat(first.pauses()).isEqualTo(2);
        assertThat(first.totalMillis()).isCloseTo(5.762, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(first.maxMillis()).isEqualTo(4.512);
        assertThat(first.lastHeapAfterMiB()).isEqualTo(90);
        assertThat(first.fullPauses()).isZero();
        assertThat(total.fullPauses()).isEqualTo(1);
        assertThat(total.maxMillis()).isEqualTo(80);
        assertThat(total.byKind()).containsEntry("Pause Young (Normal) (G1 Evacuation Pause)", 2);
    }

    @Test
    void aLogWithoutWallClockTimesCountsInTheTotalOnly() {
        List<GcLog.Pause> pauses = GcLog.parse(List.of(
                "[12.345s][info][gc] GC(7) Pause Young (Normal) (G1 Evacuation Pause) 24M->3M(256M) 3.129ms"));

        assertThat(GcLog.Summary.of(pauses).pauses()).isEqualTo(1);
        assertThat(GcLog.Summary.between(pauses, Instant.EPOCH, Instant.MAX).pauses()).isZero();
    }
}
