package health.carapace.incident.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.util.FileSystemUtils;

/**
 * A bundle's scratch directory can hold a heap dump in clear (PHI) until the bundle is sealed; a
 * command killed while it worked never reached its {@code finally}. Every start (server or command
 * line) removes the scratch directories older than any bundle can take to make, so such a dump
 * lives at most until the next start (review of ADR 0036).
 */
final class EvidenceScratchSweep {

    private static final Logger log = LoggerFactory.getLogger(EvidenceScratchSweep.class);

    /** Longer than the slowest bundle: the heap dump's 30-minute limit and the sealing after it. */
    static final Duration ABANDONED_AFTER = Duration.ofHours(2);

    private EvidenceScratchSweep() {
    }

    /** Removes {@code evidence-*} directories under {@code root} last changed before {@code now - ABANDONED_AFTER}. */
    static int sweep(Path root, Instant now) {
        if (!Files.isDirectory(root)) {
            return 0;
        }
        int removed = 0;
        try (Stream<Path> entries = Files.list(root)) {
            for (Path entry : entries.filter(p -> p.getFileName().toString().startsWith("evidence-")
                    && Files.isDirectory(p)).toList()) {
                try {
                    if (Files.getLastModifiedTime(entry).toInstant().isBefore(now.minus(ABANDONED_AFTER))
                            && Files.isWritable(entry)) {
                        FileSystemUtils.deleteRecursively(entry);
                        removed++;
                    }
                } catch (IOException e) {
                    log.error("An abandoned evidence scratch directory could not be removed ({})",
                            e.getClass().getSimpleName());
                }
            }
        } catch (IOException e) {
            log.error("The evidence scratch root could not be listed ({})", e.getClass().getSimpleName());
        }
        if (removed > 0) {
            log.warn("Removed {} abandoned evidence scratch directories (a bundle's maker stopped before cleaning up)",
                    removed);
        }
        return removed;
    }
}
