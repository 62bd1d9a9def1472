package health.carapace.platform.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.TemporalAccessor;
import java.util.UUID;
import org.slf4j.helpers.MessageFormatter;
import org.springframework.boot.json.JsonWriter;
import org.springframework.boot.logging.structured.StructuredLogFormatter;

/**
 * The only log format Carapace uses: one JSON object per line, with redaction built in rather
 * than left to every call site.
 *
 * <ul>
 *   <li>Message arguments are printed only when they cannot carry free text: numbers, booleans,
 *       enums, UUIDs, times, durations and {@link LogSafe}. Any other argument (a string, a
 *       resource, a URL) becomes {@code [redacted]}, whichever library logged it.</li>
 *   <li>A message without arguments is printed only when Carapace logged it: other libraries
 *       build such messages by concatenation, with whatever the request or an exception said.</li>
 *   <li>Exceptions are printed as class names and stack frames. Their messages are dropped
 *       unless the exception is a {@link SafeMessage}: parser and driver messages echo input.</li>
 *   <li>Of the MDC, only the request id is printed.</li>
 * </ul>
 */
public final class RedactingJsonFormat implements StructuredLogFormatter<ILoggingEvent> {

    static final String REDACTED = "[redacted]";
    private static final int MAX_FRAMES = 30;
    private static final String OWN_LOGGERS = "health.carapace.";
    /** Spring Boot's start-up lines (port, start time): built from configuration, never from a request. */
    private static final java.util.Set<String> LIFECYCLE_LOGGERS = java.util.Set.of(
            "org.springframework.boot.StartupInfoLogger", "org.springframework.boot.tomcat.TomcatWebServer");

    private final JsonWriter<ILoggingEvent> writer = JsonWriter.<ILoggingEvent>of(members -> {
        members.add("@timestamp", event -> Instant.ofEpochMilli(event.getTimeStamp()).toString());
        members.add("level", event -> event.getLevel().toString());
        members.add("logger", ILoggingEvent::getLoggerName);
        members.add("thread", ILoggingEvent::getThreadName);
        members.add("requestId", event -> event.getMDCPropertyMap().get(RequestIds.MDC_KEY)).whenNotNull();
        members.add("message", RedactingJsonFormat::message);
        members.add("error", event -> error(event.getThrowableProxy())).whenNotNull();
    }).withNewLineAtEnd();

    @Override
    public String format(ILoggingEvent event) {
        return writer.writeToString(event);
    }

    static String message(ILoggingEvent event) {
        Object[] args = event.getArgumentArray();
        if (args == null || args.length == 0) {
            return isOwn(event) ? event.getMessage() : REDACTED;
        }
        Object[] shown = new Object[args.length];
        for (int i = 0; i < args.length; i++) {
            shown[i] = isSafe(args[i]) ? args[i] : REDACTED;
        }
        return MessageFormatter.arrayFormat(event.getMessage(), shown).getMessage();
    }

    /**
     * Carapace's own code writes constant messages and passes values as arguments. A library's
     * message without arguments was often built by concatenation: Tomcat puts an exception's
     * message into its text, Spring's "Resolved [...]" warnings name the rejected header, and
     * java.util.logging records arrive here already formatted. Such text is never printed.
     */
    static boolean isOwn(ILoggingEvent event) {
        String logger = event.getLoggerName();
        return logger != null && (logger.startsWith(OWN_LOGGERS) || LIFECYCLE_LOGGERS.contains(logger));
    }

    static boolean isSafe(Object arg) {
        return arg == null || arg instanceof Number || arg instanceof Boolean || arg instanceof Enum<?>
                || arg instanceof UUID || arg instanceof TemporalAccessor || arg instanceof Duration
                || arg instanceof LogSafe || arg instanceof Class<?>;
    }

    static String error(IThrowableProxy throwable) {
        if (throwable == null) {
            return null;
        }
        StringBuilder out = new StringBuilder();
        IThrowableProxy current = throwable;
        int depth = 0;
        while (current != null && depth++ < 10) {
            if (depth > 1) {
                out.append("\nCaused by: ");
            }
            out.append(current.getClassName());
            String safe = safeMessage(current);
            if (safe != null) {
                out.append(": ").append(safe);
            }
            StackTraceElementProxy[] frames = current.getStackTraceElementProxyArray();
            for (int i = 0; i < Math.min(frames.length, MAX_FRAMES); i++) {
                out.append("\n\tat ").append(frames[i].getStackTraceElement());
            }
            current = current.getCause();
        }
        return out.toString();
    }

    private static String safeMessage(IThrowableProxy proxy) {
        if (proxy instanceof ch.qos.logback.classic.spi.ThrowableProxy real
                && real.getThrowable() instanceof SafeMessage) {
            return real.getMessage();
        }
        return null;
    }
}
