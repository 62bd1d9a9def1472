package health.carapace.incident;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review of the evidence dumps (MEDIUM): jcmd signals the process it attaches to, and a process
 * that is not a JVM dies of that signal (PostgreSQL's postmaster shuts down at once). Only a Java
 * process running Carapace is asked; anything else is refused before any signal is sent.
 */
class ServingNodeTargetTest {

    @Test
    void aProcessThatIsNotACarapaceJvmIsRefusedAndNeverSignalled() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        try {
            assertThatThrownBy(() -> ServingNode.ofPid(sleeper.pid())).isInstanceOf(ServingNode.NotFound.class)
                    .hasMessageContaining("not a Carapace server");
            // a SIGQUIT would have ended it (sleep does not handle it)
            assertThat(sleeper.waitFor(1, TimeUnit.SECONDS)).as("still running: never signalled").isFalse();
        } finally {
            sleeper.destroyForcibly();
        }
    }

    @Test
    void aJavaProcessIsAskedOnlyWhenItRunsCarapace() {
        // this test JVM is Java but runs surefire, not Carapace
        assertThat(ServingNode.isCarapaceJvm(ProcessHandle.current().info())).isFalse();
        assertThatThrownBy(() -> ServingNode.ofPid(ProcessHandle.current().parent().orElseThrow().pid()))
                .isInstanceOf(ServingNode.NotFound.class);
    }

    /**
     * Review of ADR 0036, finding 16 (the rest after I34): the pid file is trusted only as the server
     * writes it — a regular file of this user, mode 0600, in a directory neither group nor others can
     * write. A file anyone could have written names no process to signal.
     */
    @Test
    void aPidFileIsTrustedOnlyWhenPrivateToThisUserInADirectoryOthersCannotWrite(@TempDir Path temp)
            throws Exception {
        Path privateDir = Files.createDirectory(temp.resolve("private"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path good = pidFileOfThisJvm(privateDir.resolve("carapace.pid"), "rw-------");
        assertThat(ServingNode.fromPidFile(good).isThisProcess()).as("the server's own file is trusted").isTrue();

        Path readable = pidFileOfThisJvm(privateDir.resolve("readable.pid"), "rw-r--r--");
        assertThatThrownBy(() -> ServingNode.fromPidFile(readable)).isInstanceOf(ServingNode.NotFound.class)
                .hasMessageContaining("must be 0600");
        Path groupWritable = pidFileOfThisJvm(privateDir.resolve("group.pid"), "rw--w----");
        assertThatThrownBy(() -> ServingNode.fromPidFile(groupWritable)).isInstanceOf(ServingNode.NotFound.class)
                .hasMessageContaining("must be 0600");

        Path shared = Files.createDirectory(temp.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path inShared = pidFileOfThisJvm(shared.resolve("carapace.pid"), "rw-------");
        assertThatThrownBy(() -> ServingNode.fromPidFile(inShared)).isInstanceOf(ServingNode.NotFound.class)
                .hasMessageContaining("directory other users can write");

        Path link = Files.createSymbolicLink(privateDir.resolve("link.pid"), good);
        assertThatThrownBy(() -> ServingNode.fromPidFile(link)).isInstanceOf(ServingNode.NotFound.class)
                .hasMessageContaining("not a file of this user");
    }

    /** A file another user owns names nothing, whatever its mode (needs root to give a file away). */
    @Test
    void aPidFileOwnedByAnotherUserIsRefused(@TempDir Path temp) throws Exception {
        Assumptions.assumeTrue("0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream()
                .readAllBytes(), StandardCharsets.US_ASCII).strip()), "only root can give a file to another user");
        Path privateDir = Files.createDirectory(temp.resolve("private"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path foreign = pidFileOfThisJvm(privateDir.resolve("carapace.pid"), "rw-------");
        Files.setAttribute(foreign, "unix:uid", 65534);
        assertThatThrownBy(() -> ServingNode.fromPidFile(foreign)).isInstanceOf(ServingNode.NotFound.class)
                .hasMessageContaining("not a file of this user");
    }

    @Test
    void pidOneAndBelowAreNeverAsked() {
        for (long pid : new long[] {1, 0, -1, -4242}) {
            assertThatThrownBy(() -> ServingNode.ofPid(pid)).isInstanceOf(ServingNode.NotFound.class)
                    .hasMessageContaining("never a Carapace server");
        }
    }

    /** Finding 18: jcmd reads its arguments as one command line, so a heap path must be one plain word. */
    @Test
    void aHeapDumpPathJcmdWouldMisreadIsRefusedBeforeJcmdRuns(@TempDir Path temp) throws Exception {
        Path privateDir = Files.createDirectory(temp.resolve("private"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        ServingNode node = ServingNode.fromPidFile(pidFileOfThisJvm(privateDir.resolve("carapace.pid"), "rw-------"));
        for (String path : new String[] {"/tmp/a b/heap.hprof", "/tmp/x/heap.hprof -overwrite", "/tmp/\"q\"/h.hprof",
                "/tmp/x/-gz=1"}) {
            assertThatThrownBy(() -> node.heap(Path.of(path))).as(path).isInstanceOf(java.io.IOException.class)
                    .hasMessageContaining("misread");
        }
        // a plain path passes the check (and this in-process node is then not asked through jcmd)
        assertThatThrownBy(() -> node.heap(privateDir.resolve("heap.hprof"))).isInstanceOf(IllegalStateException.class);
    }

    private static Path pidFileOfThisJvm(Path file, String mode) throws Exception {
        ProcessHandle me = ProcessHandle.current();
        Files.writeString(file, me.pid() + "\n" + me.info().startInstant().orElseThrow() + "\n",
                StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }
}
