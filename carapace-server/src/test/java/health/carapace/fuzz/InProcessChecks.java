package health.carapace.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the in-process targets assert of each answer, the same as the HTTPS targets at that level:
 * no 5xx (an exception the server's error mapping cannot call the client's fault is a 500), a
 * refusal is an OperationOutcome that does not contain the input's marker, and no log line
 * carries a marker ({@link LeakWatch}).
 */
final class InProcessChecks {

    private InProcessChecks() {
    }

    /**
     * The log watch, with the server's log levels ({@code logging.level.*} of its
     * application.properties) applied first: without a Spring context Logback would log
     * everything at DEBUG, which the server never does.
     */
    static synchronized LeakWatch watchTheServersLogs() {
        ch.qos.logback.classic.LoggerContext context =
                (ch.qos.logback.classic.LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        java.util.Properties settings = new java.util.Properties();
        try (var in = InProcessChecks.class.getResourceAsStream("/application.properties")) {
            settings.load(in);
        } catch (java.io.IOException | NullPointerException e) {
            throw new IllegalStateException("application.properties not on the class path", e);
        }
        for (String key : settings.stringPropertyNames()) {
            if (key.startsWith("logging.level.")) {
                String logger = key.substring("logging.level.".length());
                context.getLogger(logger.equals("root") ? org.slf4j.Logger.ROOT_LOGGER_NAME : logger)
                        .setLevel(ch.qos.logback.classic.Level.toLevel(settings.getProperty(key)));
            }
        }
        LeakWatch watch = LeakWatch.install();
        watch.takeFindings();
        return watch;
    }

    static void check(int status, String body, String marker, LeakWatch watch) {
        check(status, body, marker, watch, true);
    }

    /** @param outcome whether a refusal must be an OperationOutcome (not for Tomcat's own refusals) */
    static void check(int status, String body, String marker, LeakWatch watch, boolean outcome) {
        assertThat(status).as("status; answer: %s", body).isLessThan(500);
        if (status >= 400 && outcome) {
            assertThat(body).as("refusal").doesNotContain(marker).contains("\"resourceType\":\"OperationOutcome\"");
        }
        assertThat(watch.takeFindings()).as("log findings").isEmpty();
    }
}
