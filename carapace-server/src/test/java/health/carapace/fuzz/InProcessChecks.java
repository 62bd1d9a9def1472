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
