package health.carapace.platform.web;

import static org.assertj.core.api.Assertions.assertThat;

import health.carapace.testing.IntegrationTest;
import health.carapace.testing.Refusals;
import jakarta.servlet.FilterChain;
import java.util.UUID;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

/**
 * An exception that nothing inside handled never reaches the container: it is answered with a
 * 500 OperationOutcome and logged once, without its message (which here carries a canary, as a
 * driver's message carries the SQL and the input). It runs in the server's context so that the
 * log goes through the server's own logging configuration.
 */
@ExtendWith(OutputCaptureExtension.class)
class UnhandledErrorsTest extends IntegrationTest {

    @Test
    void anExceptionFromInsideIsAnsweredWithAnOutcomeAndLoggedWithoutItsMessage(CapturedOutput output)
            throws Exception {
        String canary = "Qzunhandled" + UUID.randomUUID();
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/login");
        MockHttpServletResponse response = new MockHttpServletResponse();
        response.setHeader("X-Partial", "written before the failure");
        FilterChain failing = (req, res) -> {
            throw new DataIntegrityViolationException("insert into iam.app_user values ('" + canary + "')");
        };

        new UnhandledErrors().doFilter(request, response, failing);

        assertThat(response.getStatus()).isEqualTo(500);
        OperationOutcome outcome = Refusals.outcomeOf(response.getContentType(), response.getContentAsString());
        assertThat(outcome.getIssueFirstRep().getCode()).isEqualTo(OperationOutcome.IssueType.EXCEPTION);
        assertThat(response.getContentAsString()).doesNotContain(canary);
        assertThat(response.getHeader("X-Partial")).isNull();
        assertThat(response.getHeader("Content-Security-Policy")).contains("default-src 'none'");
        assertThat(response.getHeader("Cache-Control")).isEqualTo("no-store");
        assertThat(output.getAll()).contains("DataIntegrityViolationException").doesNotContain(canary);
    }
}
