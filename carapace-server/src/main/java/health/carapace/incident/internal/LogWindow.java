package health.carapace.incident.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * The server's log lines of an incident's window, from the log file the server writes ({@code
 * logging.file.name}) and its rolled-over siblings (Spring Boot's {@code NAME.DATE.N.gz}). Every
 * line was written through the redacting JSON format, so it holds no PHI. A server that logs only
 * to the console has no file to read: the bundle then says so, and the operator collects the
 * window from wherever the console goes (journald, the container runtime).
 */
final class LogWindow {

    private static final Pattern TIMESTAMP = Pattern.compile("^\\{\"@timestamp\":\"([^\"]{1,40})\"");

    private LogWindow() {
    }

    /** The log files to read, oldest rolled-over first, the current file last; empty when none is configured. */
    static List<Path> files(String logFileName) throws IOException {
        if (logFileName == null || logFileName.isBlank()) {
            return List.of();
        }
        Path current = Path.of(logFileName).toAbsolutePath();
        List<Path> files = new ArrayList<>();
        Path dir = current.getParent();
        if (dir != null && Files.isDirectory(dir)) {
            String prefix = current.getFileName().toString() + ".";
            try (var siblings = Files.list(dir)) {
                siblings.filter(p -> p.getFileName().toString().startsWith(prefix) && Files.isRegularFile(p))
                        .sorted(Comparator.comparing((Path p) -> {
                            try {
                                return Files.getLastModifiedTime(p).toInstant();
                            } catch (IOException e) {
                                return Instant.EPOCH;
                            }
                        }))
                        .forEach(files::add);
            }
        }
        if (Files.isRegularFile(current)) {
            files.add(current);
        }
        return files;
    }

    /** Copies the lines stamped within {@code [from, to]} to {@code out}; returns how many. */
    static long copy(List<Path> files, Instant from, Instant to, OutputStream out) throws IOException {
        long lines = 0;
        for (Path file : files) {
            try (InputStream raw = Files.newInputStream(file);
                    InputStream in = file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
                    BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = reader.readLine()) != null; ) {
                    Matcher m = TIMESTAMP.matcher(line);
                    if (!m.find()) {
                        continue;
                    }
                    Instant at;
                    try {
                        at = Instant.parse(m.group(1));
                    } catch (DateTimeParseException e) {
                        continue;
                    }
                    if (!at.isBefore(from) && !at.isAfter(to)) {
                        out.write(line.getBytes(StandardCharsets.UTF_8));
                        out.write('\n');
                        lines++;
                    }
                }
            }
        }
        return lines;
    }
}
