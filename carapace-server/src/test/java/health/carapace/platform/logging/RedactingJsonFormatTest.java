package health.carapace.platform.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RedactingJsonFormatTest {

    private final RedactingJsonFormat format = new RedactingJsonFormat();
    private final Logger logger = new LoggerContext().getLogger("some.library.Parser");

    private LoggingEvent event(String template, Throwable error, Object... args) {
        LoggingEvent event = new LoggingEvent(Logger.class.getName(), logger, Level.WARN, template, error, args);
        event.setMDCPropertyMap(Map.of(RequestIds.MDC_KEY, "req-123", "patientName", "Jane Canary"));
        return event;
    }

    @Test
    void stringArgumentsAreRedactedWhateverLoggedThem() {
        String line = format.format(event("Invalid value {} for {}", null, "Jane Canary", "birthDate"));
        assertThat(line).doesNotContain("Jane Canary").doesNotContain("birthDate").contains("[redacted]");
    }

    @Test
    void argumentsThatCannotCarryTextArePrinted() {
        UUID id = UUID.randomUUID();
        String line = format.format(event("took {} ms for {} ({})", null, 42, id, LogSafe.of("kek-1")));
        assertThat(line).contains("took 42 ms for " + id + " (kek-1)");
    }

    @Test
    void exceptionMessagesAreDroppedButTheirClassesAndFramesKept() {
        Exception cause = new IllegalArgumentException("SSN 123-45-6789 is invalid");
        String line = format.format(event("parse failed", new RuntimeException("Jane Canary", cause)));
        assertThat(line).doesNotContain("Jane Canary").doesNotContain("123-45-6789")
                .contains("java.lang.RuntimeException").contains("Caused by: java.lang.IllegalArgumentException")
                .contains("RedactingJsonFormatTest");
    }

    @Test
    void messagesOfSafeExceptionsAreKept() {
        class KeyMissing extends RuntimeException implements SafeMessage {
            KeyMissing() {
                super("the dev keystore is missing");
            }
        }
        assertThat(format.format(event("startup failed", new KeyMissing()))).contains("the dev keystore is missing");
    }

    @Test
    void aLibrarysMessageWithoutArgumentsIsNotPrinted() {
        // Tomcat, Spring and java.util.logging hand over text already built, often with input in it.
        String line = format.format(event("Servlet.service() threw exception [value 'Jane Canary' refused]",
                new IllegalStateException("Jane Canary")));
        assertThat(line).doesNotContain("Jane Canary").contains("\"message\":\"[redacted]\"")
                .contains("java.lang.IllegalStateException").contains("some.library.Parser");
    }

    @Test
    void carapacesOwnMessagesWithoutArgumentsArePrinted() {
        Logger own = new LoggerContext().getLogger("health.carapace.records.Something");
        LoggingEvent event = new LoggingEvent(Logger.class.getName(), own, Level.INFO, "index rebuilt", null, null);
        event.setMDCPropertyMap(Map.of());
        assertThat(format.format(event)).contains("index rebuilt");
    }

    @Test
    void onlyTheRequestIdIsTakenFromTheMdc() {
        String line = format.format(event("hello", null));
        assertThat(line).contains("\"requestId\":\"req-123\"").doesNotContain("Jane Canary");
    }

    @Test
    void eachEventIsOneJsonLine() {
        String line = format.format(event("multi\nline \"quoted\"", new RuntimeException("x")));
        assertThat(line.strip()).startsWith("{").endsWith("}").doesNotContain("\n");
    }
}
