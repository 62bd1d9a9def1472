package health.carapace.incident;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The Carapace server running on this host, found by the pid file it writes while it serves
 * ({@code carapace.incident.evidence.pid-file}: {@code <pid>\n<process start instant>}), and its
 * thread and heap dumps taken with the JDK's {@code jcmd} (ADR 0036): the attach mechanism answers
 * only a process of the same operating-system user, which is who runs the command line on the
 * node's host, and it answers even when the server's request threads are stuck, when an evidence
 * API call could not. The heap dump is written by the server itself into the bundle's private
 * scratch directory, and removed from there as soon as it is inside the encryption.
 */
public final class ServingNode implements Evidence.Dumps {

    /** The setting naming the pid file a serving node writes (start-dev: {@code <data-dir>/carapace.pid}). */
    public static final String PID_FILE_PROPERTY = "carapace.incident.evidence.pid-file";

    private static final Duration THREADS_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration HEAP_TIMEOUT = Duration.ofMinutes(30);

    /** Why no serving node could be asked; the message names files and settings, never input. */
    public static final class NotFound extends Exception implements health.carapace.platform.logging.SafeMessage {
        public NotFound(String message) {
            super(message);
        }
    }

    private final long pid;
    private final Path jcmd;

    private ServingNode(long pid, Path jcmd) {
        this.pid = pid;
        this.jcmd = jcmd;
    }

    public long pid() {
        return pid;
    }

    /**
     * The node whose pid file is {@code pidFile}, if that process is alive and is the one that
     * wrote it (same start instant: a pid reused by another process after a crash is not asked).
     */
    public static ServingNode fromPidFile(Path pidFile) throws NotFound {
        List<String> lines;
        try {
            lines = Files.readAllLines(pidFile, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new NotFound("no serving node on this host: its pid file cannot be read (is the server running, "
                    + "with carapace.incident.evidence.pid-file set to that file?)");
        }
        requireWrittenByThisUser(pidFile);
        long pid;
        Instant started;
        try {
            pid = Long.parseLong(lines.get(0).strip());
            started = Instant.parse(lines.get(1).strip());
        } catch (RuntimeException e) {
            throw new NotFound("the serving node's pid file is not one the server wrote");
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        Optional<Instant> actualStart = process.flatMap(p -> p.info().startInstant());
        if (process.isEmpty() || actualStart.isEmpty()
                || Duration.between(actualStart.get(), started).abs().compareTo(Duration.ofSeconds(2)) > 0) {
            throw new NotFound("no serving node on this host: the process its pid file names is not running "
                    + "(a stale file from a server that stopped or crashed)");
        }
        return ofPid(pid);
    }

    /**
     * The pid file is trusted only as the server writes it (review of ADR 0036, finding 16): a regular
     * file (not a link) owned by this user, readable and writable by nobody else, in a directory that
     * neither its group nor others can write — so no other user can name the process jcmd signals,
     * nor swap the file in a shared directory such as {@code /tmp}.
     */
    static void requireWrittenByThisUser(Path pidFile) throws NotFound {
        try {
            java.nio.file.attribute.PosixFileAttributes file = Files.readAttributes(pidFile,
                    java.nio.file.attribute.PosixFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            Object owner = Files.getAttribute(pidFile, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            Object me = Files.getAttribute(Path.of("/proc/self/"), "unix:uid");
            if (!file.isRegularFile() || !owner.equals(me)) {
                throw new NotFound("the serving node's pid file is not a file of this user: nothing is asked of the"
                        + " process it names");
            }
            if (!java.util.Collections.disjoint(file.permissions(), GROUP_OR_OTHERS)) {
                throw new NotFound("the serving node's pid file may be read or written by other users (it must be"
                        + " 0600): nothing is asked of the process it names");
            }
            Path directory = pidFile.toAbsolutePath().getParent();
            java.util.Set<java.nio.file.attribute.PosixFilePermission> directoryPermissions =
                    Files.getPosixFilePermissions(directory);
            if (directoryPermissions.contains(java.nio.file.attribute.PosixFilePermission.GROUP_WRITE)
                    || directoryPermissions.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE)) {
                throw new NotFound("the serving node's pid file is in a directory other users can write (" + directory
                        + "): nothing is asked of the process it names; set carapace.incident.evidence.pid-file"
                        + " to a file in a directory of the server's user");
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            throw new NotFound("the serving node's pid file's owner and mode cannot be checked on this file system:"
                    + " nothing is asked of the process it names (use --pid)");
        }
    }

    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> GROUP_OR_OTHERS = java.util.EnumSet.of(
            java.nio.file.attribute.PosixFilePermission.GROUP_READ, java.nio.file.attribute.PosixFilePermission.GROUP_WRITE,
            java.nio.file.attribute.PosixFilePermission.GROUP_EXECUTE, java.nio.file.attribute.PosixFilePermission.OTHERS_READ,
            java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE,
            java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);

    /** The process {@code pid}, named by the operator. */
    public static ServingNode ofPid(long pid) throws NotFound {
        if (pid <= 1) {
            // 0 and negative pids signal process groups; 1 is init: never a Carapace server
            throw new NotFound("a pid of 1 or below is never a Carapace server: nothing is asked of it");
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (process.isEmpty()) {
            throw new NotFound("no process with that pid is running");
        }
        if (pid == ProcessHandle.current().pid()) {
            return new ServingNode(pid, null);
        }
        // jcmd attaches by signalling the process (SIGQUIT): a process that is not a JVM dies of it, and
        // PostgreSQL's postmaster takes it as an immediate shutdown. Only a Java process whose command
        // line runs Carapace is asked; one whose command line this user cannot read is not.
        if (!isCarapaceJvm(process.get().info()) && !runsCarapace(Path.of("/proc", Long.toString(pid), "cmdline"))) {
            throw new NotFound("that process is not a Carapace server run by this user: nothing is asked of it");
        }
        return new ServingNode(pid, jcmd());
    }

    /**
     * Linux's own record of the command line (the JDK leaves a process's arguments out when its
     * command line is long, as a class path makes it): a {@code java} whose arguments name Carapace's
     * main class or jar. False when it cannot be read (another user's process).
     */
    static boolean runsCarapace(Path cmdline) {
        try {
            List<String> arguments = List.of(new String(Files.readAllBytes(cmdline), StandardCharsets.UTF_8).split("\0"));
            return !arguments.isEmpty() && Path.of(arguments.get(0)).getFileName().toString().equals("java")
                    && arguments.stream().anyMatch(argument -> argument.equals("health.carapace.Carapace")
                            || argument.endsWith("carapace-server.jar"));
        } catch (IOException | RuntimeException unreadable) {
            return false;
        }
    }

    /** A {@code java} executable whose arguments name Carapace's main class or jar. */
    static boolean isCarapaceJvm(ProcessHandle.Info info) {
        boolean runsJava = info.command().map(command -> Path.of(command).getFileName().toString().equals("java"))
                .orElse(false);
        boolean carapace = info.arguments().map(arguments -> java.util.Arrays.stream(arguments)
                .anyMatch(argument -> argument.equals("health.carapace.Carapace")
                        || argument.endsWith("carapace-server.jar"))).orElse(false);
        return runsJava && carapace;
    }

    /**
     * Whether the serving node is this very process (a command run inside the server's JVM, as the
     * tests do): its dumps are then taken in process, as the API takes them.
     */
    public boolean isThisProcess() {
        return jcmd == null;
    }

    /** The JDK's jcmd beside the java that runs this command. */
    private static Path jcmd() throws NotFound {
        Path java = Path.of(System.getProperty("java.home"), "bin");
        Path jcmd = java.resolve("jcmd");
        if (!Files.isExecutable(jcmd)) {
            throw new NotFound("the JDK's jcmd is not installed beside this java (" + java + "): a full JDK is needed "
                    + "to take a serving node's dumps");
        }
        return jcmd;
    }

    @Override
    public byte[] threads() throws IOException {
        byte[] dump = run(THREADS_TIMEOUT, "Thread.print", "-l");
        String header = "threads of the serving node, pid " + pid + " (jcmd Thread.print -l)\n\n";
        byte[] out = new byte[header.length() + dump.length];
        System.arraycopy(header.getBytes(StandardCharsets.US_ASCII), 0, out, 0, header.length());
        System.arraycopy(dump, 0, out, header.length(), dump.length);
        return out;
    }

    @Override
    public void heap(Path file) throws IOException {
        if (!file.isAbsolute()) {
            throw new IllegalArgumentException("the serving node writes its heap dump to an absolute path");
        }
        if (!file.toString().matches("[A-Za-z0-9_./+=@:,-]+") || file.getFileName().toString().startsWith("-")) {
            // jcmd joins its arguments into one command line of the attach protocol: a space, a quote or a
            // leading dash in the path would be read as more than the file name (review, finding 18)
            throw new IOException("the heap dump's path holds characters jcmd would misread; choose a scratch"
                    + " directory of letters, digits and / . _ - only");
        }
        run(HEAP_TIMEOUT, "GC.heap_dump", file.toString());
        if (!Files.isRegularFile(file) || Files.size(file) == 0) {
            throw new IOException("the serving node wrote no heap dump (pid " + pid + ")");
        }
    }

    @Override
    public String describe() {
        return "the serving node, pid " + pid + ", taken with jcmd by the command line";
    }

    private byte[] run(Duration timeout, String... command) throws IOException {
        if (jcmd == null) {
            throw new IllegalStateException("this process's own dumps are taken in process, not by jcmd");
        }
        List<String> arguments = new ArrayList<>(List.of(jcmd.toString(), Long.toString(pid)));
        arguments.addAll(List.of(command));
        Process process = new ProcessBuilder(arguments).redirectErrorStream(true).start();
        process.getOutputStream().close();
        // jcmd's output is read beside the wait, so that the timeout holds even while jcmd keeps its
        // output open (read first, the wait began only once jcmd had ended: review of ADR 0036)
        java.util.concurrent.CompletableFuture<byte[]> output = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try (InputStream in = process.getInputStream()) {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try {
            if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("jcmd did not finish in " + timeout);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while jcmd ran");
        }
        if (process.exitValue() != 0) {
            // jcmd's own words (attach refused: another user, or -XX:+DisableAttachMechanism) name no input
            throw new IOException("jcmd " + command[0] + " failed for pid " + pid + " (exit " + process.exitValue() + ")");
        }
        try {
            return output.get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IOException("jcmd's output could not be read");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while jcmd's output was read");
        }
    }
}
