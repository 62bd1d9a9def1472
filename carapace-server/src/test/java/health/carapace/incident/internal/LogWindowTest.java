package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log lines of an incident's window come from the log file and its rolled-over (gzipped)
 * siblings, oldest first, and only the lines stamped inside the window.
 */
class LogWindowTest {

    @TempDir
    Path dir;

    private static String line(String at, String message) {
        return "{\"@timestamp\":\"" + at + "\",\"level\":\"INFO\",\"logger\":\"x\",\"message\":\"" + message + "\"}\n";
    }

    @Test
    void theWindowsLinesComeFromTheFileAndItsRolledOverSiblingsInOrder() throws Exception {
        Path current = dir.resolve("carapace.log");
        Path rolled = dir.resolve("carapace.log.2026-12-04.0.gz");
        try (OutputStream gz = new GZIPOutputStream(Files.newOutputStream(rolled))) {
            gz.write((line("2026-12-04T09:00:00Z", "before") + line("2026-12-04T11:00:00Z", "rolled-in")
                    + "not json at all\n").getBytes(StandardCharsets.UTF_8));
        }
        Files.setLastModifiedTime(rolled, FileTime.from(Instant.parse("2026-12-04T23:59:00Z")));
        Files.writeString(current, line("2026-12-05T01:00:00Z", "current-in") + line("2026-12-05T03:00:00Z", "after"));
        Files.writeString(dir.resolve("other.log"), line("2026-12-05T01:00:00Z", "another-file"));

        var files = LogWindow.files(current.toString());
        assertThat(files).containsExactly(rolled, current);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long lines = LogWindow.copy(files, Instant.parse("2026-12-04T10:00:00Z"), Instant.parse("2026-12-05T02:00:00Z"), out);

        assertThat(lines).isEqualTo(2);
        assertThat(out.toString(StandardCharsets.UTF_8))
                .isEqualTo(line("2026-12-04T11:00:00Z", "rolled-in") + line("2026-12-05T01:00:00Z", "current-in"));
        assertThat(LogWindow.files(null)).isEmpty();
        assertThat(LogWindow.files(dir.resolve("absent.log").toString())).isEmpty();
    }
}
