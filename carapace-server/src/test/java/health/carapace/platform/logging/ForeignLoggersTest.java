package health.carapace.platform.logging;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import java.util.UUID;
import java.util.logging.Level;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * Every logging API a library may use in the running server (Tomcat's JULI, java.util.logging,
 * Commons Logging as Spring uses it, SLF4J) reaches the log through the redacting format, and a
 * message a library built by concatenation (as Tomcat does with an exception's message) is not
 * trusted: its text is dropped, its logger, level, exception class and frames are kept.
 */
@ExtendWith(OutputCaptureExtension.class)
class ForeignLoggersTest extends IntegrationTest {

    /** The logger Tomcat's StandardWrapperValve uses for an exception that reaches the container. */
    private static final String CONTAINER_LOGGER = "org.apache.catalina.core.ContainerBase.[Tomcat].[localhost].[/]"
            + ".[dispatcherServlet]";

    private final String canary = "Qzlogcanary" + UUID.randomUUID().toString().replace("-", "");

    /**
     * The server process has one application context, and the bridge from java.util.logging is in
     * place for its whole life. In this test JVM other tests start and close contexts of their own,
     * and Spring Boot's logging clean-up at a context's close uninstalls the bridge (java.util.logging
     * then writes nowhere: silenced, not leaked). Put it back as the running server has it, so the
     * probes below are really logged and the test can fail.
     */
    @BeforeEach
    void bridgeAsInTheRunningServer() {
        if (!org.slf4j.bridge.SLF4JBridgeHandler.isInstalled()) {
            org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
            org.slf4j.bridge.SLF4JBridgeHandler.install();
        }
    }

    @Test
    void tomcatsContainerLoggerDoesNotPrintAnExceptionsMessage(CapturedOutput output) {
        org.apache.juli.logging.LogFactory.getLog(CONTAINER_LOGGER).error("Servlet.service() for servlet"
                + " [dispatcherServlet] threw exception [select * from iam.app_user where user_name = '" + canary + "']",
                new IllegalStateException("ERROR: invalid byte sequence " + canary));
        assertRedacted(output, "org.apache.catalina.core.ContainerBase", "java.lang.IllegalStateException");
    }

    @Test
    void javaUtilLoggingIsRedacted(CapturedOutput output) {
        java.util.logging.Logger.getLogger("org.apache.coyote.http11.Http11Processor")
                .log(Level.WARNING, "Invalid character found in the request target [" + canary + "]",
                        new IllegalArgumentException(canary));
        java.util.logging.Logger.getLogger("jdk.some.component").log(Level.SEVERE, "value {0}", canary);
        assertRedacted(output, "org.apache.coyote.http11.Http11Processor", "java.lang.IllegalArgumentException");
        assertThat(output.getAll()).contains("jdk.some.component");
    }

    @Test
    void commonsLoggingAsSpringUsesItIsRedacted(CapturedOutput output) {
        org.apache.commons.logging.LogFactory.getLog("org.springframework.web.servlet.mvc.support.DefaultHandlerExceptionResolver")
                .warn("Resolved [org.springframework.web.HttpMediaTypeNotSupportedException: Content-Type '" + canary
                        + "' is not supported]");
        assertRedacted(output, "DefaultHandlerExceptionResolver", null);
    }

    @Test
    void aLibrarysSlf4jMessageBuiltByConcatenationIsRedacted(CapturedOutput output) {
        org.slf4j.LoggerFactory.getLogger("ca.uhn.fhir.rest.server.RestfulServer").warn("Failure during REST processing: "
                + canary);
        assertRedacted(output, "ca.uhn.fhir.rest.server.RestfulServer", null);
    }

    private void assertRedacted(CapturedOutput output, String logger, String exceptionClass) {
        String log = output.getAll();
        assertThat(log).as("the probe was logged").contains(logger);
        if (exceptionClass != null) {
            assertThat(log).as("the exception's class is kept").contains(exceptionClass);
        }
        assertThat(log).as("captured log output").doesNotContain(canary);
        for (String line : log.split("\n")) {
            if (line.contains(logger)) {
                assertThat(line).as("a log line").startsWith("{");
            }
        }
    }
}
