package health.carapace.incident.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Writes {@code carapace.incident.evidence.pid-file} while this server serves: its pid and the
 * process's start instant, so that {@code ./carapace incident evidence} on this host takes the
 * dumps of this process ({@link health.carapace.incident.ServingNode}) and never of another that
 * reused the pid after a crash. Removed when the server stops (a crash leaves it: the start instant
 * then tells it apart). start-dev writes {@code <data-dir>/carapace.pid}; unset: no file.
 */
final class ServingNodePidFile implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ServingNodePidFile.class);

    /** Servers of this JVM per pid file (tests start several contexts in one JVM): the last one removes it. */
    private static final java.util.Map<Path, Integer> SERVING = new java.util.HashMap<>();

    private final Path file;
    private volatile boolean running;

    ServingNodePidFile(Path file) {
        this.file = file;
    }

    static String contents(ProcessHandle process) {
        Instant started = process.info().startInstant().orElse(Instant.EPOCH);
        return process.pid() + "\n" + started + "\n";
    }

    @Override
    public void start() {
        if (file != null) {
            synchronized (SERVING) {
                SERVING.merge(file.toAbsolutePath(), 1, Integer::sum);
            }
            try {
                Path absolute = file.toAbsolutePath();
                Files.createDirectories(absolute.getParent());
                Path written = Files.createTempFile(absolute.getParent(), ".carapace-pid", ".tmp");
                Files.writeString(written, contents(ProcessHandle.current()), StandardCharsets.US_ASCII);
                // a temporary file is created 0600, and keeps its mode through the move: the command line
                // trusts only a file of this user that nobody else can read or write (ServingNode)
                Files.move(written, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                var directory = Files.getPosixFilePermissions(absolute.getParent());
                if (directory.contains(java.nio.file.attribute.PosixFilePermission.GROUP_WRITE)
                        || directory.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE)) {
                    log.warn("The serving node's pid file is in a directory other users can write; incident evidence"
                            + " from the command line refuses it (set carapace.incident.evidence.pid-file to a file in"
                            + " a directory of the server's user)");
                }
            } catch (IOException | UnsupportedOperationException e) {
                log.warn("The serving node's pid file could not be written; incident evidence from the command line"
                        + " needs --pid ({})", e.getClass().getSimpleName());
            }
        }
        running = true;
    }

    @Override
    public void stop() {
        running = false;
        if (file != null) {
            synchronized (SERVING) {
                if (SERVING.merge(file.toAbsolutePath(), -1, Integer::sum) > 0) {
                    return; // another server of this JVM still serves
                }
                SERVING.remove(file.toAbsolutePath());
            }
            try {
                if (Files.readString(file, StandardCharsets.US_ASCII).equals(contents(ProcessHandle.current()))) {
                    Files.delete(file);
                }
            } catch (IOException gone) {
                // already removed, or another server's now
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        // written once the server is up (last to start), removed first when it stops
        return Integer.MAX_VALUE - 1000;
    }
}
