package health.carapace.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pauses of a JVM's unified GC log, as the server writes it with
 * {@code -Xlog:gc:file=FILE:time,uptime,level,tags} (or {@code gc*}): one summary line per pause,
 * {@code [2026-12-05T09:00:01.234+0000][12.345s][info][gc] GC(12) Pause Young (Normal) (G1
 * Evacuation Pause) 120M->40M(256M) 3.456ms}. Lines of other tags (phases, heap details,
 * concurrent cycles) are not pauses and are skipped. G1, Parallel and Serial write this shape;
 * ZGC and Shenandoah do not (their pauses are not counted).
 */
final class GcLog {

    /** One stop-the-world pause: when (wall clock, if the log has the {@code time} decorator), what, and the heap around it. */
    record Pause(Instant at, String kind, double heapBeforeMiB, double heapAfterMiB, double heapCommittedMiB,
            double millis) {

        boolean full() {
            return kind.startsWith("Pause Full");
        }
    }

    private static final Pattern PAUSE = Pattern.compile(
            "\\[gc\\s*\\] GC\\(\\d+\\) (Pause .+?) (\\d+)([KMG])->(\\d+)([KMG])\\((\\d+)([KMG])\\) (\\d+(?:\\.\\d+)?)ms\\s*$");
    private static final Pattern TIME = Pattern.compile("^\\[(\\d{4}-\\d{2}-\\d{2}T[^\\]]+)\\]");
    private static final DateTimeFormatter JVM_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ", Locale.ROOT);

    private GcLog() {
    }

    static List<Pause> read(Path file) throws IOException {
        return parse(Files.readAllLines(file, StandardCharsets.UTF_8));
    }

    static List<Pause> parse(List<String> lines) {
        List<Pause> pauses = new ArrayList<>();
        for (String line : lines) {
            Matcher pause = PAUSE.matcher(line);
            if (!pause.find()) {
                continue;
            }
            pauses.add(new Pause(time(line), pause.group(1).strip(), mib(pause.group(2), pause.group(3)),
                    mib(pause.group(4), pause.group(5)), mib(pause.group(6), pause.group(7)),
                    Double.parseDouble(pause.group(8))));
        }
        return pauses;
    }

    private static Instant time(String line) {
        Matcher time = TIME.matcher(line);
        if (!time.find()) {
            return null;
        }
        try {
            return OffsetDateTime.parse(time.group(1), JVM_TIME).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static double mib(String amount, String unit) {
        double value = Double.parseDouble(amount);
        return switch (unit) {
            case "K" -> value / 1024;
            case "G" -> value * 1024;
            default -> value;
        };
    }

    /** The pauses of one stretch of time (a soak's minute, or the whole run). */
    record Summary(int pauses, int fullPauses, double totalMillis, double maxMillis, Double lastHeapAfterMiB,
            Map<String, Integer> byKind) {

        static Summary of(List<Pause> pauses) {
            double total = 0;
            double max = 0;
            int full = 0;
            Map<String, Integer> byKind = new TreeMap<>();
            for (Pause pause : pauses) {
                total += pause.millis();
                max = Math.max(max, pause.millis());
                full += pause.full() ? 1 : 0;
                byKind.merge(pause.kind(), 1, Integer::sum);
            }
            return new Summary(pauses.size(), full, total, max,
                    pauses.isEmpty() ? null : pauses.get(pauses.size() - 1).heapAfterMiB(), byKind);
        }

        /** The pauses whose time is in {@code [from, to)}; none if the log has no wall-clock times. */
        static Summary between(List<Pause> pauses, Instant from, Instant to) {
            return of(pauses.stream().filter(p -> p.at() != null && !p.at().isBefore(from) && p.at().isBefore(to))
                    .toList());
        }
    }
}
