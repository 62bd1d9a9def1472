package health.carapace.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProcFsTest {

    @Test
    void readsCpuTicksEvenWhenTheCommandNameHasSpacesAndParentheses() {
        String stat = "4242 (java (main) x) S 1 4242 4242 0 -1 4194560 123 0 0 0 1500 250 7 3 20 0 40 0 99 0 0";
        assertThat(ProcFs.cpuTicksFromStat(stat)).isEqualTo(1750);
    }

    @Test
    void readsResidentMemoryFromStatus() {
        String status = "Name:\tjava\nVmPeak:\t 9000000 kB\nVmRSS:\t  523264 kB\nThreads:\t42\n";
        assertThat(ProcFs.rssKiBFromStatus(status)).hasValue(523_264);
        assertThat(ProcFs.rssKiBFromStatus("Name:\tkthreadd\n")).isEmpty();
    }

    @Test
    void machineBusyTimeExcludesIdleAndIoWait() {
        ProcFs.MachineTicks ticks = ProcFs.machineTicksFromStat("cpu  100 5 50 800 20 1 4 0 0 0");
        assertThat(ticks.total()).isEqualTo(980);
        assertThat(ticks.busy()).isEqualTo(160);
    }

    @Test
    void readsThisProcessOnLinux() {
        if (!ProcFs.available()) {
            return;
        }
        long self = ProcessHandle.current().pid();
        assertThat(ProcFs.processCpuTicks(self)).isPresent();
        assertThat(ProcFs.residentKiB(self).getAsLong()).isPositive();
        assertThat(ProcFs.processCpuTicks(Long.MAX_VALUE)).isEmpty();
    }
}
