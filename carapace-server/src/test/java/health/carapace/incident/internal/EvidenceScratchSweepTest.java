package health.carapace.incident.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Review of ADR 0036: a heap dump left by a killed bundle maker is removed at the next start. */
class EvidenceScratchSweepTest {

    @TempDir
    Path root;

    @Test
    void abandonedScratchDirectoriesGoAndFreshOnesAndOthersStay() throws Exception {
        Instant now = Instant.parse("2026-12-05T07:00:00Z");
        Path abandoned = Files.createDirectory(root.resolve("evidence-123"));
        Files.writeString(abandoned.resolve("heap.hprof"), "Canary heap");
        Files.setLastModifiedTime(abandoned, FileTime.from(now.minus(Duration.ofHours(3))));
        Path working = Files.createDirectory(root.resolve("evidence-456"));
        Files.setLastModifiedTime(working, FileTime.from(now.minus(Duration.ofMinutes(20))));
        Path unrelated = Files.createDirectory(root.resolve("someone-elses"));
        Files.setLastModifiedTime(unrelated, FileTime.from(now.minus(Duration.ofDays(3))));

        assertThat(EvidenceScratchSweep.sweep(root, now)).isEqualTo(1);

        assertThat(abandoned).doesNotExist();
        assertThat(working).isDirectory();
        assertThat(unrelated).isDirectory();
    }
}
