package health.carapace.fuzz;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.LoggerFactory;

/**
 * Watches every log event of the server while a fuzz target runs: one that carries a fuzz
 * marker (in its message, its arguments' rendering, its MDC or any exception message of its
 * cause chain) has logged input; an ERROR with an exception on a request thread is an uncaught
 * exception. Cheap per event, so that it can stay attached through millions of executions.
 */
final class LeakWatch extends AppenderBase<ILoggingEvent> {

    private static LeakWatch installed;

    private final ConcurrentLinkedQueue<String> findings = new ConcurrentLinkedQueue<>();

    /**
     * The one watch of this JVM, attached to the root logger; attached again if a reset of the
     * logging configuration took it off (Spring Boot resets Logback when a context starts, and the
     * in-process targets may run before the HTTPS targets' context in the same JVM).
     */
    static synchronized LeakWatch install() {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        if (installed == null) {
            installed = new LeakWatch();
            installed.setName("fuzz-leak-watch");
        }
        if (root.getAppender(installed.getName()) == null) {
            installed.setContext(root.getLoggerContext());
            installed.start();
            root.addAppender(installed);
        }
        return installed;
    }

    @Override
    protected void append(ILoggingEvent event) {
        StringBuilder text = new StringBuilder(String.valueOf(event.getFormattedMessage()));
        event.getMDCPropertyMap().values().forEach(v -> text.append(' ').append(v));
        for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
            text.append(' ').append(t.getMessage());
        }
        if (text.indexOf(FuzzMarkers.PREFIX) >= 0) {
            findings.add("a log line of " + event.getLoggerName() + " carries a fuzz marker: " + text);
        }
        if (event.getLevel().isGreaterOrEqual(Level.ERROR) && event.getThrowableProxy() != null
                && event.getThreadName().contains("https")) {
            findings.add("uncaught " + event.getThrowableProxy().getClassName() + " logged by " + event.getLoggerName()
                    + " on " + event.getThreadName());
        }
    }

    /** What was found since the last call (and forgets it). */
    List<String> takeFindings() {
        List<String> taken = new java.util.ArrayList<>();
        for (String f; (f = findings.poll()) != null; ) {
            taken.add(f);
        }
        return taken;
    }
}
