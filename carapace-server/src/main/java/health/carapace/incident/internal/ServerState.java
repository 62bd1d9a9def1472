package health.carapace.incident.internal;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.MonitorInfo;
import java.lang.management.ThreadInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;

/**
 * What an evidence bundle captures of this server process: its threads, its heap, and the
 * configuration in force with every secret redacted.
 */
final class ServerState {

    /** Property names whose values are never written: passwords, PINs, secrets, tokens, private keys. */
    private static final Pattern SECRET_NAME = Pattern.compile(
            "(?i).*(password|passwd|passphrase|secret|pin|token|credential|private|api[-_.]?key|cookie).*");
    /** Settings of this server, whatever the source (properties, environment variables, flags). */
    private static final Pattern OURS = Pattern.compile("(?i)(carapace|server|spring|logging|management)[._].*");
    static final String REDACTED = "[redacted]";

    /** The dumps of this process: the node that answers the API, or a command's own. */
    static final health.carapace.incident.Evidence.Dumps THIS_PROCESS = new health.carapace.incident.Evidence.Dumps() {
        @Override
        public byte[] threads() {
            return threadDump();
        }

        @Override
        public void heap(Path file) throws IOException {
            heapDump(file);
        }

        @Override
        public String describe() {
            return "the process that made the bundle, pid " + ProcessHandle.current().pid();
        }
    };

    private ServerState() {
    }

    /** Every live thread with its full stack, locks and state (the JDK's toString stops at 8 frames). */
    static byte[] threadDump() {
        StringBuilder out = new StringBuilder();
        ThreadInfo[] threads = ManagementFactory.getThreadMXBean().dumpAllThreads(true, true);
        out.append("threads: ").append(threads.length).append(" (pid ").append(ProcessHandle.current().pid())
                .append(")\n\n");
        for (ThreadInfo thread : threads) {
            out.append('"').append(thread.getThreadName()).append("\" id=").append(thread.getThreadId())
                    .append(thread.isDaemon() ? " daemon" : "").append(' ').append(thread.getThreadState());
            if (thread.getLockName() != null) {
                out.append(" on ").append(thread.getLockName());
            }
            if (thread.getLockOwnerName() != null) {
                out.append(" owned by \"").append(thread.getLockOwnerName()).append("\" id=").append(thread.getLockOwnerId());
            }
            out.append('\n');
            StackTraceElement[] frames = thread.getStackTrace();
            for (int i = 0; i < frames.length; i++) {
                out.append("\tat ").append(frames[i]).append('\n');
                for (MonitorInfo monitor : thread.getLockedMonitors()) {
                    if (monitor.getLockedStackDepth() == i) {
                        out.append("\t- locked ").append(monitor).append('\n');
                    }
                }
            }
            for (LockInfo lock : thread.getLockedSynchronizers()) {
                out.append("\t- holds ").append(lock).append('\n');
            }
            out.append('\n');
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Writes a heap dump of the live objects to {@code file} (must not exist, must end in .hprof). */
    static void heapDump(Path file) throws IOException {
        ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).dumpHeap(file.toString(), true);
    }

    /**
     * The configuration in force: every setting of this server that some source names, with the
     * value Spring resolves (the one in force), sorted. Values of settings whose name suggests a
     * secret are redacted, as are credentials inside URLs. Environment variables and system
     * properties that are not settings of this server are left out: they may be anyone's secrets.
     */
    static byte[] configuration(ConfigurableEnvironment environment) {
        Map<String, String> settings = new TreeMap<>();
        for (PropertySource<?> source : environment.getPropertySources()) {
            if (!(source instanceof EnumerablePropertySource<?> enumerable)) {
                continue;
            }
            for (String name : enumerable.getPropertyNames()) {
                if (!OURS.matcher(name).matches() || settings.containsKey(name)) {
                    continue;
                }
                settings.put(name, redact(name, () -> environment.getProperty(name)));
            }
        }
        StringBuilder out = new StringBuilder("# The configuration in force (secrets redacted), active profiles: ")
                .append(String.join(",", environment.getActiveProfiles())).append('\n');
        settings.forEach((name, value) -> out.append(name).append('=').append(value).append('\n'));
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    static String redact(String name, java.util.function.Supplier<String> value) {
        if (SECRET_NAME.matcher(name).matches()) {
            return REDACTED;
        }
        String resolved;
        try {
            resolved = value.get();
        } catch (RuntimeException unresolvable) {
            return "[unresolvable]";
        }
        if (resolved == null) {
            return "";
        }
        String lower = resolved.toLowerCase(Locale.ROOT);
        if (lower.contains("password=") || lower.contains("secret") || resolved.matches("(?s).*://[^/@\\s]+:[^/@\\s]*@.*")) {
            return REDACTED; // a URL or connection string carrying a credential
        }
        return resolved.replace("\n", "\\n");
    }
}
