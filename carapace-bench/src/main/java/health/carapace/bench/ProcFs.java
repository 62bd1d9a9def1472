package health.carapace.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * Reads Linux's {@code /proc}: a process's CPU time and resident memory, and the whole machine's
 * CPU counters. The parsers take text so they can be tested on any system.
 */
final class ProcFs {

    private static final Path PROC = Path.of("/proc");

    /** Kernel clock ticks per second, the unit of /proc CPU counters; 100 on every common Linux. */
    static final long TICKS_PER_SECOND = ticksPerSecond();

    private ProcFs() {
    }

    static boolean available() {
        return Files.isReadable(PROC.resolve("self/stat"));
    }

    /** utime + stime of a process, in ticks; empty if it is gone or unreadable. */
    static OptionalLong processCpuTicks(long pid) {
        try {
            return OptionalLong.of(cpuTicksFromStat(Files.readString(PROC.resolve(pid + "/stat"))));
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /** VmRSS of a process in KiB; empty if it is gone, unreadable or a kernel thread. */
    static OptionalLong residentKiB(long pid) {
        try {
            return rssKiBFromStatus(Files.readString(PROC.resolve(pid + "/status")));
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /** The machine's first {@code cpu} line of /proc/stat, or empty off Linux. */
    static Optional<MachineTicks> machineTicks() {
        try (var lines = Files.lines(PROC.resolve("stat"))) {
            return lines.findFirst().map(ProcFs::machineTicksFromStat);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The three load averages of /proc/loadavg, or empty off Linux. */
    static Optional<double[]> loadAverages() {
        try {
            String[] fields = Files.readString(PROC.resolve("loadavg")).trim().split("\\s+");
            return Optional.of(new double[] {
                    Double.parseDouble(fields[0]), Double.parseDouble(fields[1]), Double.parseDouble(fields[2])});
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * utime + stime from a /proc/PID/stat line. The command name (field 2) is in parentheses and may
     * itself hold spaces and parentheses, so fields are counted from the last ')'.
     */
    static long cpuTicksFromStat(String stat) {
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
        // fields[0] is field 3 (state); utime is field 14, stime field 15.
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    static OptionalLong rssKiBFromStatus(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("VmRSS:")) {
                String[] parts = line.substring("VmRSS:".length()).trim().split("\\s+");
                return OptionalLong.of(Long.parseLong(parts[0]));
            }
        }
        return OptionalLong.empty();
    }

    /** CPU ticks of the whole machine, summed over cores: busy and total. */
    record MachineTicks(long busy, long total) {}

    /** Parses {@code cpu  user nice system idle iowait irq softirq steal ...}; guest time is already in user. */
    static MachineTicks machineTicksFromStat(String cpuLine) {
        String[] fields = cpuLine.trim().split("\\s+");
        long total = 0;
        for (int i = 1; i <= 8 && i < fields.length; i++) {
            total += Long.parseLong(fields[i]);
        }
        long idle = Long.parseLong(fields[4]) + (fields.length > 5 ? Long.parseLong(fields[5]) : 0);
        return new MachineTicks(total - idle, total);
    }

    private static long ticksPerSecond() {
        try {
            Process getconf = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(getconf.getInputStream().readAllBytes()).trim();
            if (getconf.waitFor(2, TimeUnit.SECONDS) && getconf.exitValue() == 0) {
                return Long.parseLong(out);
            }
        } catch (IOException | RuntimeException e) {
            // fall through to the Linux default
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100;
    }
}
